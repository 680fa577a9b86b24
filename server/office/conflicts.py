"""Data conflicts side by side, and a supervisor's decision (the rules are in
server/coverage/conflicts.py)."""

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import access
from ..auth import check_form_csrf, safe_next
from ..coverage.conflicts import CHOICES, NOTE_MAX, Field, resolve
from ..extensions import db
from ..models import DataConflict, Household, User
from .site import office_page
from .web import PAGE_SIZE, after_arg, bp, int_arg, next_cursor, scope_arg

STATES = ("open", "resolved", "all")


@bp.get("/conflicts")
@office_page
def conflicts():
    scope = scope_arg()
    state = request.args.get("state") or "open"
    if state not in STATES:
        abort(400, _("Unknown state."))
    query = (
        access.conflicts(current_user)
        .where(scope.in_villages())
        .options(selectinload(DataConflict.household).selectinload(Household.village))
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
        "office/conflicts.html",
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
@office_page
def resolve_conflict(conflict_id: int):
    check_form_csrf()
    conflict = access.get_conflict(current_user, conflict_id)
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
    back = safe_next(request.form.get("next") or url_for("office.conflicts"))
    return redirect(back)
