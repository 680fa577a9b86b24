"""Tasks, each with one lifecycle: a needs-action item is raised where its source is stored
(a visit reporting trouble, a data conflict, a family's self-report) and closed where its
source closes (the conflict resolved, the report handled). Every path calls the one function
of its transition here, so no page view ever writes to bring the list up to date.

A family's self-report (自主申报) is also a task for the household's cadre (帮扶责任人): it
must get a verification visit within the town's working days (server/workdays.py), and one
still open after that is late and escalates to the town office.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from . import audit, settings, workdays
from .extensions import db
from .models import DataConflict, Household, NeedsAction, SelfReport, User, Visit, utcnow


def _raise(household_id: int, source: str, source_id: int, reason: str, detail, raised_at):
    item = NeedsAction(
        household_id=household_id,
        source=source,
        source_id=source_id,
        reason=reason,
        detail=detail,
        raised_at=raised_at,
    )
    db.session.add(item)
    return item


def _close_items(source: str, source_id: int, actor: User | None, note: str | None, at):
    for item in db.session.scalars(
        select(NeedsAction).where(
            NeedsAction.source == source,
            NeedsAction.source_id == source_id,
            NeedsAction.handled_at.is_(None),
        )
    ):
        item.handled_at, item.note = at, note
        item.handled_by_id = actor.id if actor is not None else None


# --- visits ------------------------------------------------------------------------------


def visit_stored(visit, raised_at: datetime) -> NeedsAction | None:
    """A visit that reported a sudden event or anything "worse" raises one item."""
    worse = sorted(key for key, value in (visit.situation or {}).items() if value == "worse")
    if not visit.sudden_event and not worse:
        return None
    detail = {"sudden_event": visit.sudden_event, "worse": worse}
    return _raise(
        visit.household_id, "visit", visit.id, visit.sudden_event or "worse", detail, raised_at
    )


# --- data conflicts ----------------------------------------------------------------------


def conflict_stored(conflict: DataConflict) -> NeedsAction:
    """Call once the conflict is flushed (it needs its id)."""
    raised_at = conflict.created_at or utcnow()
    detail = {"field": conflict.field}
    return _raise(conflict.household_id, "conflict", conflict.id, "conflict", detail, raised_at)


def conflict_resolved(conflict: DataConflict, actor: User, note: str | None) -> None:
    _close_items("conflict", conflict.id, actor, note, conflict.resolved_at or utcnow())


# --- self-reports ------------------------------------------------------------------------


def response_due(household: Household, urgent: bool, received_at: datetime) -> datetime:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    town = settings.for_town(household.village.town)
    days = town["report_response_days"]["urgent" if urgent else "normal"]
    holidays, extra = town["extra_holidays"], town["extra_workdays"]
    return workdays.deadline(received_at, days, zone, holidays, extra)


def report_received(report: SelfReport) -> NeedsAction:
    """Call once the report is flushed: it gets its deadline and its needs-action item."""
    household = report.household or db.session.get(Household, report.household_id)
    report.due_at = response_due(household, report.urgent, report.received_at)
    detail = {"field": report.category}
    return _raise(report.household_id, "report", report.id, "report", detail, report.received_at)


def close_report(
    report: SelfReport, actor: User, note: str | None = None, visit: Visit | None = None
) -> None:
    """The report is handled: on the web with a note, or answered by a visit. Either way it
    leaves the cadre's phone, the office lists and needs action, and the family's page shows
    it acted on. Closing it again keeps the first closing (a visit may still be linked)."""
    now = utcnow()
    before = {"handled_note": report.handled_note, "visit_id": report.visit_id}
    if report.handled_at is None:
        report.handled_at, report.handled_by_id = now, actor.id
    if report.responded_at is None:
        report.responded_at = now
    if note is not None:
        report.handled_note = note
    if visit is not None and report.visit_id is None:
        report.visit_id = visit.id
    _close_items("report", report.id, actor, note, now)
    after = {"handled_note": report.handled_note, "visit_id": report.visit_id}
    if visit is not None:
        after["visit_uuid"] = visit.uuid
    action = "link_visit" if visit is not None else "handled"
    audit.record(action, "self_report", report.id, before=before, after=after, actor=actor)


# --- a household marked handled ----------------------------------------------------------


def household_handled(household_id: int, note: str, actor: User) -> int:
    """ "Handled" on the needs-action list: the household's open items close, and so do its
    open self-reports (through close_report). A data conflict stays open: it closes only when
    someone chooses which value to keep. Returns how many items closed."""
    now = utcnow()
    items = db.session.scalars(
        select(NeedsAction).where(
            NeedsAction.household_id == household_id,
            NeedsAction.handled_at.is_(None),
            NeedsAction.source != "conflict",
        )
    ).all()
    report_ids = [i.source_id for i in items if i.source == "report"]
    for item in items:
        item.handled_at, item.handled_by_id, item.note = now, actor.id, note
    open_reports = db.session.scalars(
        select(SelfReport).where(
            SelfReport.household_id == household_id, SelfReport.handled_at.is_(None)
        )
    )
    for report in open_reports:
        close_report(report, actor, note)
        report_ids.append(report.id)
    if items:
        audit.record(
            "handle",
            "household",
            household_id,
            before={"needs_action": [i.id for i in items]},
            after={"handled": True, "self_reports": sorted(set(report_ids))},
            reason=note[:200],
            actor=actor,
        )
    return len(items)
