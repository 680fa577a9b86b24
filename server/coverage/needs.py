"""'Needs action': households whose visits reported a sudden event or a worsening situation,
or whose data holds an open conflict; listed oldest first until someone marks them handled."""

from datetime import datetime

from sqlalchemy import Select, and_, exists, func, literal, or_, select

from .. import audit
from ..extensions import db
from ..models import DataConflict, Household, NeedsAction, SelfReport, utcnow
from .upsert import insert


def raise_for_visit(visit, raised_at: datetime) -> NeedsAction | None:
    """A visit that reported a sudden event or anything "worse" raises one item."""
    worse = sorted(key for key, value in (visit.situation or {}).items() if value == "worse")
    if not visit.sudden_event and not worse:
        return None
    item = NeedsAction(
        household_id=visit.household_id,
        source="visit",
        source_id=visit.id,
        reason=visit.sudden_event or "worse",
        detail={"sudden_event": visit.sudden_event, "worse": worse},
        raised_at=raised_at,
    )
    db.session.add(item)
    return item


def _open_conflicts() -> Select:
    already = exists().where(
        NeedsAction.source == "conflict", NeedsAction.source_id == DataConflict.id
    )
    return select(
        DataConflict.household_id,
        literal("conflict").label("source"),
        DataConflict.id.label("source_id"),
        literal("conflict").label("reason"),
        DataConflict.field.label("field"),
        DataConflict.created_at.label("raised_at"),
    ).where(DataConflict.resolved_at.is_(None), ~already)


def _open_reports() -> Select:
    """A family's own report (QR door card) stays on the list until it is handled."""
    already = exists().where(NeedsAction.source == "report", NeedsAction.source_id == SelfReport.id)
    return select(
        SelfReport.household_id,
        literal("report").label("source"),
        SelfReport.id.label("source_id"),
        literal("report").label("reason"),
        SelfReport.category.label("field"),
        SelfReport.received_at.label("raised_at"),
    ).where(SelfReport.handled_at.is_(None), ~already)


def needs_action_sources() -> list[Select]:
    """Things not yet on the list that put a household on it. Each select yields
    household_id, source, source_id, reason, field and raised_at.

    Visits raise their items when stored (`raise_for_visit`, through
    `record_visit_aggregates`); conflicts and the families' own reports are read here."""
    return [_open_conflicts(), _open_reports()]


def raise_item(household_id: int, source: str, source_id: int, reason: str, detail, raised_at):
    """Insert an item once: a second call for the same source row changes nothing."""
    db.session.execute(
        insert(NeedsAction)
        .values(
            household_id=household_id,
            source=source,
            source_id=source_id,
            reason=reason,
            detail=detail,
            raised_at=raised_at,
        )
        .on_conflict_do_nothing(index_elements=[NeedsAction.source, NeedsAction.source_id])
    )


def refresh() -> None:
    """Bring the items from every source up to date (cheap: each source reads only what is
    open and not yet raised)."""
    for source in needs_action_sources():
        for row in db.session.execute(source).all():
            raise_item(
                row.household_id,
                row.source,
                row.source_id,
                row.reason,
                {"field": row.field},
                row.raised_at,
            )
    db.session.commit()


def open_items_by_household(household_condition, village_ids, after=None, limit=50):
    """Households with open items, the one waiting longest first; keyset on (oldest, id)."""
    oldest = func.min(NeedsAction.raised_at).label("oldest")
    query = (
        select(NeedsAction.household_id, oldest, func.count().label("items"))
        .join(Household, Household.id == NeedsAction.household_id)
        .where(NeedsAction.handled_at.is_(None), household_condition)
        .group_by(NeedsAction.household_id)
    )
    if village_ids is not None:
        query = query.where(Household.village_id.in_(village_ids))
    if after is not None:
        since, last_id = after
        query = query.having(
            or_(oldest > since, and_(oldest == since, NeedsAction.household_id > last_id))
        )
    query = query.order_by(oldest, NeedsAction.household_id).limit(limit + 1)
    return db.session.execute(query).all()


def mark_handled(household_id: int, note: str, actor) -> int:
    items = db.session.scalars(
        select(NeedsAction).where(
            NeedsAction.household_id == household_id, NeedsAction.handled_at.is_(None)
        )
    ).all()
    now = utcnow()
    for item in items:
        item.handled_at, item.handled_by_id, item.note = now, actor.id, note
    if items:
        audit.record(
            "handle",
            "household",
            household_id,
            before={"needs_action": [i.id for i in items]},
            after={"handled": True},
            reason=note[:200],
            actor=actor,
        )
    return len(items)
