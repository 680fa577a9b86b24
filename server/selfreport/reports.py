"""Reports as tasks: created from the public form, seen and handled by staff, answered by a
visit. Nothing here writes to the household record: a report is a message for a person."""

import secrets
import statistics
from datetime import datetime, timedelta

from sqlalchemy import and_, case, or_, select
from sqlalchemy.orm import selectinload

from .. import access, audit, images, storage
from ..errors import ApiError
from ..extensions import db
from ..models import (
    Household,
    HouseholdLink,
    Photo,
    SelfReport,
    User,
    Visit,
    new_uuid,
    report_priority,
    utcnow,
)
from ..schemas.selfreport import ReportSchema
from ..tasks import close_report, report_received

STATS_DAYS = 90


def _new_reference() -> str:
    """Eight digits as 1234-5678: easy to read out over the phone, for a family with no letters
    on its keypad. Random, so references say nothing about how many reports exist."""
    while True:
        digits = f"{secrets.randbelow(10**8):08d}"
        reference = f"{digits[:4]}-{digits[4:]}"
        taken = select(SelfReport.id).where(SelfReport.reference == reference)
        if db.session.scalar(taken) is None:
            return reference


def by_nonce(household_id: int, nonce: str) -> SelfReport | None:
    return db.session.scalar(
        select(SelfReport).where(
            SelfReport.form_nonce == nonce, SelfReport.household_id == household_id
        )
    )


def by_reference(household_id: int, reference: str) -> SelfReport | None:
    return db.session.scalar(
        select(SelfReport).where(
            SelfReport.reference == reference[:9], SelfReport.household_id == household_id
        )
    )


def _store_photo(household_id: int, photo: images.Encoded) -> Photo:
    store = storage.current()
    store.put(photo.key, photo.data)
    store.put(images.thumb_key(photo.key), photo.thumb)
    row = Photo(
        uuid=new_uuid(),
        household_id=household_id,
        sha256=photo.source_sha256,
        storage_key=photo.key,
        content_type="image/jpeg",
        size_bytes=len(photo.data),
        width=photo.width,
        height=photo.height,
    )
    db.session.add(row)
    return row


def create(link: HouseholdLink, data: dict, nonce: str, photo: images.Encoded | None) -> SelfReport:
    """Store a family's report (the caller commits). `data` has been validated."""
    report = SelfReport(
        reference=_new_reference(),
        household_id=link.household_id,
        link_id=link.id,
        form_nonce=nonce,
        category=data["category"],
        description=data["description"],
        urgent=data["urgent"],
        priority=report_priority(data["category"], data["urgent"]),
        callback_phone=data.get("phone"),
        received_at=utcnow(),
    )
    if photo is not None:
        report.photo = _store_photo(link.household_id, photo)
    db.session.add(report)
    db.session.flush()
    report_received(report)
    audit.record(
        "create",
        "self_report",
        report.id,
        after={
            "household_id": report.household_id,
            "category": report.category,
            "urgent": report.urgent,
            "photo": photo is not None,
        },
        reason="household self-report",
    )
    return report


def recent_for_household(household_id: int, limit: int = 5) -> list[SelfReport]:
    return list(
        db.session.scalars(
            select(SelfReport)
            .where(SelfReport.household_id == household_id)
            .order_by(SelfReport.received_at.desc())
            .limit(limit)
        )
    )


def mark_seen(report: SelfReport, user: User) -> None:
    """The first time only: seeing it again changes nothing (the caller commits)."""
    if report.seen_at is not None:
        return
    report.seen_at = utcnow()
    report.seen_by_id = user.id
    if report.responded_at is None:
        report.responded_at = report.seen_at
    audit.record("seen", "self_report", report.id, after={"seen_at": report.seen_at.isoformat()})


def mark_handled(report: SelfReport, user: User, note: str) -> None:
    close_report(report, user, note)


def reports_answered(user: User, household_id: int, report_ids) -> list[SelfReport] | None:
    """The reports a visit to this household says it answers, or None when one of them is
    not this household's or not in the user's scope (an id from elsewhere tells nothing)."""
    ids = set(report_ids)
    if not ids:
        return []
    found = list(
        db.session.scalars(
            access.reports(user).where(
                SelfReport.id.in_(ids), SelfReport.household_id == household_id
            )
        )
    )
    return found if len(found) == len(ids) else None


def link_visit_to_report(visit: Visit, report_id: int, user: User) -> SelfReport:
    """A visit answering a report (a pushed visit names it in `report_ids`): closed through
    the same transition as on the web.

    The report must be in the user's scope and about the visit's household, else a 422 that
    quarantines the pushed item on the phone. Linking twice is a no-op; a report already
    answered by another visit keeps its first one. The caller commits.
    """
    found = reports_answered(user, visit.household_id, [report_id])
    if not found:
        raise ApiError(
            422,
            "validation_failed",
            "Some fields are not valid.",
            {"report_ids": ["No such report for this household in your scope."]},
        )
    report = found[0]
    if report.visit_id is not None:
        return report
    if visit.id is None:
        db.session.flush()
    close_report(report, user, visit=visit)
    return report


def _task_order(query, now: datetime):
    """Open before handled; late ones first, since they have already escalated; then urgent
    illness/disaster/need-help, other urgent, the rest; oldest first within each."""
    late = and_(SelfReport.handled_at.is_(None), SelfReport.due_at <= now)
    return query.order_by(
        SelfReport.handled_at.is_not(None),
        case((late, 0), else_=1),
        SelfReport.priority,
        SelfReport.received_at,
    )


STATUS_FILTERS = ("open", "late", "handled", "all")


def tasks(user: User, status: str = "open", household_id: int | None = None, limit: int = 100):
    """`status`: one of STATUS_FILTERS; "late" are the open ones past their deadline."""
    now = utcnow()
    query = access.reports(user).options(
        selectinload(SelfReport.household).selectinload(Household.village),
        selectinload(SelfReport.visit),
    )
    if status in ("open", "late"):
        query = query.where(SelfReport.handled_at.is_(None))
    if status == "late":
        query = query.where(SelfReport.due_at <= now)
    elif status == "handled":
        query = query.where(SelfReport.handled_at.is_not(None))
    if household_id is not None:
        query = query.where(SelfReport.household_id == household_id)
    return list(db.session.scalars(_task_order(query, now).limit(limit)))


def open_reports_for_households(user: User, household_ids) -> list[dict]:
    """For the sync pull: every open report of these households, as the API shows them.

    The full set each time (there are few): a report missing from it is no longer open, and
    the phone can drop it. Scoped, so ids outside the user's scope just yield nothing.
    """
    ids = list(household_ids)
    if not ids:
        return []
    query = access.reports(user).where(
        SelfReport.household_id.in_(ids), SelfReport.handled_at.is_(None)
    )
    rows = db.session.scalars(
        _task_order(
            query.options(selectinload(SelfReport.household).selectinload(Household.village)),
            utcnow(),
        )
    )
    return ReportSchema(many=True).dump(rows)


def needs_action_reports(user: User) -> list[SelfReport]:
    """For the supervisors' "needs action" list: open reports in scope, urgent first, with
    household and village loaded. `report.priority == 0` marks the ones counted as urgent."""
    return tasks(user, status="open", limit=500)


def summary(user: User, now: datetime | None = None) -> dict:
    """Open and urgent counts (all time), and response times of the last STATS_DAYS days."""
    now = now or utcnow()
    since = now - timedelta(days=STATS_DAYS)
    rows = db.session.execute(
        access.reports(user)
        .with_only_columns(
            SelfReport.priority,
            SelfReport.received_at,
            SelfReport.responded_at,
            SelfReport.handled_at,
            SelfReport.due_at,
        )
        .where(or_(SelfReport.received_at >= since, SelfReport.handled_at.is_(None)))
    ).all()
    recent = [r for r in rows if r.received_at >= since]
    waits = [(r.responded_at - r.received_at).total_seconds() for r in recent if r.responded_at]
    waiting = [(now - r.received_at).total_seconds() for r in rows if r.responded_at is None]
    open_rows = [r for r in rows if r.handled_at is None]
    return {
        "days": STATS_DAYS,
        "received": len(recent),
        "open": len(open_rows),
        "open_urgent": sum(1 for r in open_rows if r.priority == 0),
        "late": sum(1 for r in open_rows if r.due_at is not None and r.due_at <= now),
        "responded": len(waits),
        "median_response_seconds": int(statistics.median(waits)) if waits else None,
        "unanswered": len(waiting),
        "longest_wait_seconds": int(max(waiting)) if waiting else None,
    }
