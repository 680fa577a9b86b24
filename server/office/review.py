"""Pages where a supervisor acts: visit flags to check, households that need action."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import access, audit, pagination, tasks
from ..auth import check_form_csrf, safe_next
from ..coverage import needs
from ..coverage.flags import FLAG_KINDS
from ..extensions import db
from ..models import DataConflict, Household, NeedsAction, Visit, VisitFlag, utcnow
from .site import office_page
from .web import PAGE_SIZE, after_arg, bp, next_cursor, scope_arg

FLAG_STATES = ("open", "checked", "all")
COMMENT_MAX = 500


@bp.get("/flags")
@office_page
def flags():
    scope = scope_arg()
    kind = request.args.get("kind") or None
    state = request.args.get("state") or "open"
    if (kind is not None and kind not in FLAG_KINDS) or state not in FLAG_STATES:
        abort(400, gettext("Unknown flag kind or state."))
    query = (
        access.flags(current_user)
        .where(scope.in_villages())
        .options(
            selectinload(VisitFlag.visit).selectinload(Visit.household),
            selectinload(VisitFlag.visit).selectinload(Visit.cadre),
            selectinload(VisitFlag.checked_by),
        )
    )
    if kind:
        query = query.where(VisitFlag.kind == kind)
    if state != "all":
        checked = VisitFlag.checked_at.is_not(None)
        query = query.where(checked if state == "checked" else ~checked)
    after = after_arg()
    if after is not None:
        query = query.where(VisitFlag.id < after)
    rows = db.session.scalars(query.order_by(VisitFlag.id.desc()).limit(PAGE_SIZE + 1)).all()
    return render_template(
        "office/flags.html",
        scope=scope,
        rows=rows[:PAGE_SIZE],
        next_after=next_cursor(rows, lambda f: f.id),
        kinds=FLAG_KINDS,
        kind=kind,
        state=state,
        states=FLAG_STATES,
    )


def _form_text(name: str) -> str:
    text = (request.form.get(name) or "").strip()
    if not text or len(text) > COMMENT_MAX:
        abort(400, gettext("Write a note (at most %(n)s characters).", n=COMMENT_MAX))
    return text


@bp.post("/flags/<int:flag_id>/check")
@office_page
def check_flag(flag_id: int):
    check_form_csrf()
    flag = access.get_flag(current_user, flag_id)
    comment = _form_text("comment")
    before = {"checked_at": None, "comment": flag.comment}
    flag.checked_at, flag.checked_by_id, flag.comment = utcnow(), current_user.id, comment
    audit.record(
        "check",
        "visit_flag",
        flag.id,
        before=before,
        after={"kind": flag.kind, "visit_id": flag.visit_id, "comment": comment},
    )
    db.session.commit()
    flash(gettext("Flag checked."))
    return redirect(safe_next(request.form.get("next")) + f"#flag-{flag.id}")


@bp.get("/needs-action")
@office_page
def needs_action():
    scope = scope_arg()
    after = _needs_cursor()
    rows = needs.open_items_by_household(scope.visible(), scope.village_ids, after, PAGE_SIZE)
    shown = rows[:PAGE_SIZE]
    households = {
        h.id: h
        for h in db.session.scalars(
            select(Household)
            .where(Household.id.in_([r.household_id for r in shown]))
            .options(selectinload(Household.village))
        )
    }
    items = {}
    for item in db.session.scalars(
        access.needs_actions(current_user)
        .where(NeedsAction.household_id.in_(list(households)), NeedsAction.handled_at.is_(None))
        .order_by(NeedsAction.raised_at)
    ):
        items.setdefault(item.household_id, []).append(item)
    last = shown[-1] if len(rows) > PAGE_SIZE else None
    return render_template(
        "office/needs_action.html",
        scope=scope,
        rows=[(households[r.household_id], r, items.get(r.household_id, [])) for r in shown],
        next_after=pagination.pack("needs", last.oldest, last.household_id) if last else None,
        open_conflicts=db.session.scalar(
            access.conflicts(current_user)
            .where(DataConflict.resolved_at.is_(None), scope.in_villages())
            .with_only_columns(func.count())
        ),
    )


def _needs_cursor():
    """(oldest open item, household id) of the last household shown."""
    return pagination.unpack(
        request.args.get("after"), "needs", pagination.moment, pagination.row_id, field="after"
    )


@bp.post("/needs-action/<int:household_id>/handled")
@office_page
def mark_handled(household_id: int):
    check_form_csrf()
    household = access.get_household(current_user, household_id)
    handled = tasks.household_handled(household.id, _form_text("note"), current_user)
    db.session.commit()
    if handled:
        flash(gettext("%(head)s: marked handled.", head=household.head_name))
    return redirect(safe_next(request.form.get("next") or url_for("office.needs_action")))
