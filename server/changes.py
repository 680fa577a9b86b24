"""Change tracking for what phones pull, in session hooks that no write path can skip.

- before_flush: a household whose registry data changes (its own fields, a member, a cadre
  assignment) gets a new `version` in that flush, unless the code bumped it already; and the
  household's `field_versions` map records the version at which each field a phone may edit
  offline last changed (offline edits are merged against it, see server/sync/edits.py).
- after_flush: any change to a household or what is shown with it (members, assignments,
  visits, crops, photos) marks the household as changed in this transaction.
- before_commit: the marked households take the next number of the change sequence
  (`household.change_seq`), the cursor phones pull from.

Only the ORM unit of work is seen: code issuing bulk UPDATE/DELETE statements on these tables
must call `mark()` itself.
"""

from sqlalchemy import event, insert, inspect, select, update
from sqlalchemy.orm import Session

from .extensions import db
from .models import (
    Assignment,
    ChangeCounter,
    CropRecord,
    Household,
    Member,
    Photo,
    SelfReport,
    SupportMeasure,
    Visit,
)

CHANGED = "zoufang_changed_households"
# Columns that are bookkeeping, not registry data: changing them makes no new version.
NOT_REGISTRY_DATA = {"version", "field_versions", "change_seq", "last_visit_at", "updated_at"}
# Fields a cadre may edit offline, merged per field against the phone's base version.
MERGED_HOUSEHOLD_FIELDS = ("phone",)
MERGED_MEMBER_FIELDS = ("health", "labour_capacity")
# Self-reports too: a family's report must reach its cadre's phone at the next pull; and
# support measures, which the phone shows and the visit form offers.
SHOWN_WITH_HOUSEHOLD = (Member, Assignment, Visit, CropRecord, Photo, SelfReport, SupportMeasure)


def field_key(obj, name: str) -> str:
    """The key of a mergeable field in field_versions: "phone", "members.12.health"."""
    return f"members.{obj.id}.{name}" if isinstance(obj, Member) else name


def mark(session: Session, household_ids) -> None:
    session.info.setdefault(CHANGED, set()).update(i for i in household_ids if i is not None)


def _changed(obj, name: str) -> bool:
    history = inspect(obj).attrs[name].history
    return bool(history.added) and list(history.added) != list(history.deleted)


def _changed_columns(obj) -> set[str]:
    """The columns given a different value since the object was loaded or last flushed."""
    state = inspect(obj)
    candidates = state.committed_state.keys() & state.mapper.column_attrs.keys()
    return {name for name in candidates if _changed(obj, name)}


def _registry_change(obj, deleting: bool) -> tuple[Household | None, list[str]]:
    """The household whose registry data this pending object changes, and the mergeable
    fields it changes; (None, []) when it changes none. `deleting`: the object is marked for
    deletion in this flush (before the flush its state does not say so yet)."""
    state = inspect(obj)
    if isinstance(obj, Household):
        if state.pending or deleting:
            return None, []
        changed = _changed_columns(obj) - NOT_REGISTRY_DATA
        if not changed:
            return None, []
        return obj, [n for n in MERGED_HOUSEHOLD_FIELDS if n in changed]
    if isinstance(obj, Member | Assignment):
        household = obj.household
        if household is None or inspect(household).pending:
            return None, []
        if state.pending or deleting:
            return household, []
        changed = _changed_columns(obj)
        if not changed:
            return None, []
        if isinstance(obj, Member):
            return household, [field_key(obj, n) for n in MERGED_MEMBER_FIELDS if n in changed]
        return household, []
    return None, []


@event.listens_for(db.session, "before_flush")
def _bump_versions(session: Session, flush_context, instances) -> None:
    touched: dict[Household, list[str]] = {}
    deleted = set(session.deleted)
    for obj in [*session.new, *session.dirty, *deleted]:
        household, fields = _registry_change(obj, obj in deleted)
        if household is not None:
            touched.setdefault(household, []).extend(fields)
    for household, fields in touched.items():
        if not _changed(household, "version"):
            household.version = (household.version or 1) + 1
        if fields:
            household.field_versions = dict(household.field_versions or {}) | dict.fromkeys(
                fields, household.version
            )


@event.listens_for(db.session, "after_flush")
def _mark_changed(session: Session, flush_context) -> None:
    ids = []
    for obj in session.new:
        if isinstance(obj, Household):
            ids.append(obj.id)
        elif isinstance(obj, SHOWN_WITH_HOUSEHOLD):
            ids.append(obj.household_id)
    for obj in [*session.dirty, *session.deleted]:
        if isinstance(obj, Household) and session.is_modified(obj):
            ids.append(obj.id)
        elif isinstance(obj, SHOWN_WITH_HOUSEHOLD):
            ids.append(obj.household_id)
    mark(session, ids)


@event.listens_for(db.session, "before_commit")
def _number_changes(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()
    ids = sorted(session.info.pop(CHANGED, ()))
    if ids:
        seq = _next_seq(session, ids)
        table = Household.__table__
        session.execute(update(table).where(table.c.id.in_(ids)).values(change_seq=seq))


def _next_seq(session: Session, household_ids: list[int]) -> int:
    """Lock the households (in id order, so two writers cannot deadlock), then take the next
    number. The counter's row lock is held to the commit, so numbers commit in order."""
    households = Household.__table__
    session.execute(
        select(households.c.id)
        .where(households.c.id.in_(household_ids))
        .order_by(households.c.id)
        .with_for_update(key_share=True)
    )
    counter = ChangeCounter.__table__
    bumped = session.execute(
        update(counter).where(counter.c.id == 1).values(value=counter.c.value + 1)
    )
    if bumped.rowcount == 0:  # the row was deleted (tests empty every table)
        session.execute(insert(counter).values(id=1, value=1))
    return session.scalar(select(counter.c.value).where(counter.c.id == 1))


def current_seq() -> int:
    counter = ChangeCounter.__table__
    return db.session.scalar(select(counter.c.value).where(counter.c.id == 1)) or 0


@event.listens_for(db.session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(CHANGED, None)
