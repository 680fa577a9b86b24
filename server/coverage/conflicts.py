"""Data conflicts: a field a cadre changed offline that the server changed too. Both values
were kept (server/sync/edits.py) and the server's stayed in force; here a supervisor sees
them side by side and decides, once. Choosing the phone's value writes it through the ORM,
so the household gets a new version and the phones pull it; either way the conflict is
closed with who, when and why, its needs-action item closes with it (server/tasks.py),
and both are audited."""

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import audit, tasks
from ..auth import check_form_csrf, safe_next
from ..extensions import db
from ..models import DataConflict, Household, Member, User, utcnow
from .web import PAGE_SIZE, after_arg, bp, int_arg, next_cursor, scope_arg, supervisor_page

STATES = ("open", "resolved", "all")
CHOICES = ("server", "phone")
NOTE_MAX = 200  # DataConflict.resolution holds the choice and the note


class Field:
    """Where a conflict's field lives: the household's phone or a member's field."""

    def __init__(self, conflict: DataConflict):
        self.conflict = conflict
        parts = conflict.field.split(".")
        self.member_id = int(parts[1]) if parts[0] == "members" and len(parts) == 3 else None
        self.name = parts[-1]

    def target(self):
        """The row holding the field now, or None when it is gone (a member removed)."""
        if self.member_id is None:
            return self.conflict.household
        member = db.session.get(Member, self.member_id)
        return member if member and member.household_id == self.conflict.household_id else None

    def label(self) -> str:
        if self.member_id is None:
            return _("Phone") if self.name == "phone" else self.name
        target = self.target()
        who = target.name if target is not None else _("removed member")
        names = {"health": _("Health"), "labour_capacity": _("Labour capacity")}
        return f"{who}: {names.get(self.name, self.name)}"

    def current(self):
        target = self.target()
        return getattr(target, self.name) if target is not None else None


def resolve(conflict: DataConflict, choice: str, note: str, actor: User) -> None:
    """Close the conflict; with "phone", the phone's value replaces the server's."""
    field = Field(conflict)
    if choice == "phone":
        target = field.target()
        if target is None:
            abort(409, _("The member this value belongs to was removed; keep the server value."))
        before, after = getattr(target, field.name), conflict.phone_value["value"]
        setattr(target, field.name, after)
        entity = "member" if isinstance(target, Member) else "household"
        reason = f"data conflict {conflict.id} resolved"
        audit.record("update", entity, target.id, {field.name: before}, {field.name: after}, reason)
    now = utcnow()
    conflict.resolved_at, conflict.resolved_by_id = now, actor.id
    conflict.resolution = f"{choice}: {note}" if note else choice
    tasks.conflict_resolved(conflict, actor, note or _("Data conflict resolved"))
    audit.record(
        "resolve",
        "data_conflict",
        conflict.id,
        before={"server": conflict.server_value, "phone": conflict.phone_value},
        after={"kept": choice, "field": conflict.field},
        reason=note or None,
    )


def _in_scope(scope):
    return (
        select(DataConflict)
        .join(Household, Household.id == DataConflict.household_id)
        .where(scope.visible())
    )


@bp.get("/conflicts")
@supervisor_page
def conflicts():
    scope = scope_arg()
    state = request.args.get("state") or "open"
    if state not in STATES:
        abort(400, "Unknown state.")
    query = _in_scope(scope).options(
        selectinload(DataConflict.household).selectinload(Household.village)
    )
    household_id = int_arg("household")
    if household_id is not None:
        query = query.where(DataConflict.household_id == household_id)
    if state != "all":
        resolved = DataConflict.resolved_at.is_not(None)
        query = query.where(resolved if state == "resolved" else ~resolved)
    after = after_arg()
    if after is not None:
        query = query.where(DataConflict.id > after)
    rows = db.session.scalars(query.order_by(DataConflict.id).limit(PAGE_SIZE + 1)).all()
    people = _people(rows[:PAGE_SIZE])
    return render_template(
        "coverage/conflicts.html",
        scope=scope,
        rows=[(c, Field(c)) for c in rows[:PAGE_SIZE]],
        people=people,
        state=state,
        states=STATES,
        next_after=next_cursor(rows, lambda c: c.id),
    )


def _people(rows: list[DataConflict]) -> dict[int, User]:
    ids = {c.submitted_by_id for c in rows} | {c.resolved_by_id for c in rows}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids - {None})))}


@bp.post("/conflicts/<int:conflict_id>/resolve")
@supervisor_page
def resolve_conflict(conflict_id: int):
    check_form_csrf()
    conflict = db.session.scalar(_in_scope(scope_arg()).where(DataConflict.id == conflict_id))
    if conflict is None:
        abort(404)
    if conflict.resolved_at is not None:
        abort(409, _("This conflict was already resolved."))
    choice = request.form.get("choice")
    note = (request.form.get("note") or "").strip()
    if choice not in CHOICES:
        abort(400, _("Choose which value to keep."))
    if len(note) > NOTE_MAX:
        abort(400, _("The note is too long (at most %(n)s characters).", n=NOTE_MAX))
    resolve(conflict, choice, note, current_user)
    db.session.commit()
    back = safe_next(request.form.get("next") or url_for("coverage.conflicts"))
    return redirect(back)
