"""The audit log (日志): who changed what, when, before and after, in words, for the user's
scope (server/access.py audit_events): everything for admins, the town for a town
supervisor, its villages' households for a village committee."""

from datetime import date, datetime, time, timedelta

from flask import render_template, request, url_for
from flask_babel import lazy_gettext as _
from flask_login import current_user
from sqlalchemy import false, func, or_, select

from .. import access, pagination
from ..coverage.periods import local_zone
from ..errors import ApiError
from ..extensions import db
from ..models import AuditEvent, Household, User, Village
from . import audit_labels
from .site import bp, office_page

PAGE_SIZE = 50


class FilterError(Exception):
    pass


@bp.get("/audit")
@office_page
def audit_log():
    query = access.audit_events(current_user)
    error = None
    try:
        query = _filtered(query, request.args)
        before = _cursor(request.args.get("before"))
    except FilterError as failure:
        error, before = str(failure), None
        query = query.where(false())
    if before is not None:
        query = query.where(AuditEvent.id < before)
    events = db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(PAGE_SIZE + 1)).all()
    more, events = len(events) > PAGE_SIZE, events[:PAGE_SIZE]
    page = render_template(
        "office/audit.html",
        events=events,
        names=names_for(events),
        labels=audit_labels,
        kinds=audit_labels.ENTITIES,
        error=error,
        older=_older_url(events[-1].id) if more else None,
    )
    return page, 400 if error else 200


def _older_url(last_id: int) -> str:
    args = request.args.to_dict() | {"before": pagination.encode(last_id)}
    return url_for("office.audit_log", **args)


def _cursor(raw: str | None) -> int | None:
    try:
        return pagination.decode(raw)
    except ApiError:
        raise FilterError(_("The page link is not valid.")) from None


def _filtered(query, args):
    person = (args.get("person") or "").strip()[:64]
    if person:
        named = select(User.id).where(
            or_(func.lower(User.username) == person.lower(), User.display_name == person)
        )
        query = query.where(AuditEvent.actor_id.in_(named))
    code = (args.get("household") or "").strip()[:32]
    if code:
        household = db.session.scalar(
            access.households(current_user).where(Household.code == code).limit(1)
        )
        if household is None:
            raise FilterError(_("No household with code %(code)s.", code=code))
        query = query.where(AuditEvent.household_id == household.id)
    kind = args.get("kind") or ""
    if kind:
        if kind not in audit_labels.ENTITIES:
            raise FilterError(_("Unknown kind of change."))
        query = query.where(AuditEvent.entity == kind)
    since, until = _day(args.get("from")), _day(args.get("to"))
    if since is not None:
        query = query.where(AuditEvent.at >= _start_of(since))
    if until is not None:
        query = query.where(AuditEvent.at < _start_of(until + timedelta(days=1)))
    return query


def _day(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise FilterError(_("A date is written as 2026-05-31.")) from None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=local_zone())


def household_events(household: Household, limit: int = 100) -> list[AuditEvent]:
    """A household's changes, newest first, its members' included (removed ones too: every
    event keeps the household it was about)."""
    return db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.household_id == household.id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()


def names_for(events) -> dict:
    """Names of the people, households, villages and accounts the events name, each
    read once for the page."""
    wanted = audit_labels.referenced_ids(events)
    user_ids = wanted["user"] | {e.actor_id for e in events if e.actor_id}
    user_ids |= {e.entity_id for e in events if e.entity == "user" and e.entity_id}
    names: dict = {}
    if user_ids:
        for user in db.session.scalars(select(User).where(User.id.in_(user_ids))):
            names[("user", user.id)] = user.display_name
            names[("username", user.id)] = user.username
    if wanted["village"]:
        for village in db.session.scalars(select(Village).where(Village.id.in_(wanted["village"]))):
            names[("village", village.id)] = village.name
    household_ids = {e.household_id for e in events if e.household_id}
    if household_ids:
        rows = db.session.execute(
            select(Household.id, Household.code, Household.head_name).where(
                Household.id.in_(household_ids)
            )
        )
        for household_id, code, head in rows:
            names[("household", household_id)] = f"{head}（{code}）"
    return names
