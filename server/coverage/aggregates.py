"""Aggregates kept with each visit, so coverage pages never scan the visits table:
the household's last visit, its row per visited month, and what needs action.

The sync push calls `record_visits(stored)` with the batch's new visits, in the transaction
that stores them: a few statements per batch, whatever its size. Code that stores a single
visit through the ORM calls `record_visit_aggregates(household, visit)`. Flags come from
server.coverage.flags (`flag_visits`, `flag_visit`).
"""

from collections import defaultdict
from datetime import datetime

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import bindparam, case, select, update

from ..extensions import db
from ..models import Household, KlassChange, VisitMonth, VisitMonthCount, utcnow
from ..models.types import UTCDateTime
from ..tasks import visit_stored
from .periods import Period, local_zone, month_key
from .stored import StoredVisit
from .upsert import insert


def record_visits(visits: list[StoredVisit]) -> None:
    """Keep the households' last visits, their month rows and counts, and their needs-action
    items in step with newly stored visits. Call once per batch, in the transaction that
    stores it, never for a visit already counted (a duplicate push)."""
    if not visits:
        return
    _advance_last_visits(visits)
    _count_months(visits)
    for visit in visits:
        visit_stored(visit, visit.credited)


def record_visit_aggregates(household: Household, visit) -> None:
    """The same for one visit stored through the ORM."""
    if visit.id is None or visit.received_at is None:
        db.session.flush()
    record_visits([StoredVisit.of(visit, household)])


def _advance_last_visits(visits: list[StoredVisit]) -> None:
    """An atomic max() per household, so two pushes stored at once both count."""
    latest: dict[int, datetime] = {}
    for visit in visits:
        latest[visit.household_id] = max(
            latest.get(visit.household_id, visit.credited), visit.credited
        )
    table = Household.__table__
    moment = bindparam("moment", type_=UTCDateTime())
    statement = (
        update(table)
        .where(table.c.id == bindparam("household"))
        .values(
            last_visit_at=case(
                (table.c.last_visit_at.is_(None), moment),
                (table.c.last_visit_at < moment, moment),
                else_=table.c.last_visit_at,
            )
        )
    )
    db.session.execute(statement, [{"household": h, "moment": m} for h, m in latest.items()])
    for visit in visits:
        db.session.expire(visit.household, ["last_visit_at"])


def _count_months(visits: list[StoredVisit]) -> None:
    """One row per household and visited month (visits, last visit); a household's first
    visit of a month also counts it as visited in its village and class that month."""
    zone = local_zone()
    groups: dict[tuple[int, int], list] = {}  # (household, month) -> [visits, last, household]
    for visit in visits:
        key = (visit.household_id, month_key(visit.visited_at, zone))
        group = groups.setdefault(key, [0, visit.credited, visit.household])
        group[0] += 1
        group[1] = max(group[1], visit.credited)
    classes = _klass_at_month_ends(groups, zone)
    rows = [
        {
            "household_id": household_id,
            "month": month,
            "village_id": household.village_id,
            "klass": classes[(household_id, month)],
            "visits": count,
            "last_visit_at": last,
        }
        for (household_id, month), (count, last, household) in groups.items()
    ]
    statement = insert(VisitMonth).values(rows)
    later = statement.excluded.last_visit_at
    statement = statement.on_conflict_do_update(
        index_elements=[VisitMonth.household_id, VisitMonth.month],
        set_={
            "visits": VisitMonth.visits + statement.excluded.visits,
            "last_visit_at": case(
                (VisitMonth.last_visit_at < later, later), else_=VisitMonth.last_visit_at
            ),
        },
    ).returning(
        VisitMonth.household_id,
        VisitMonth.month,
        VisitMonth.visits,
        VisitMonth.village_id,
        VisitMonth.klass,
    )
    newly_visited: dict[tuple[int, int, str], int] = defaultdict(int)
    for household_id, month, total, village_id, klass in db.session.execute(statement):
        if total == groups[(household_id, month)][0]:  # no visit that month before this batch
            newly_visited[(month, village_id, klass)] += 1
    _count_visited(newly_visited)


def _klass_at_month_ends(groups, zone) -> dict[tuple[int, int], str]:
    """The class each household had at the end of each month: the `klass_from` of the first
    class change after that moment, or its class today."""
    ends = {month: Period(month // 100, month % 100, zone).end for _, month in groups}
    changes = defaultdict(list)
    for household_id, changed_at, klass_from in db.session.execute(
        select(KlassChange.household_id, KlassChange.changed_at, KlassChange.klass_from)
        .where(
            KlassChange.household_id.in_({h for h, _ in groups}),
            KlassChange.changed_at >= min(ends.values()),
        )
        .order_by(KlassChange.changed_at, KlassChange.id)
    ):
        changes[household_id].append((changed_at, klass_from))
    classes = {}
    for (household_id, month), (_, _, household) in groups.items():
        later = [klass for at, klass in changes[household_id] if at >= ends[month]]
        classes[(household_id, month)] = later[0] if later else household.klass
    return classes


def _count_visited(newly: dict[tuple[int, int, str], int]) -> None:
    """Add households newly visited to the months' counts by village and class, atomically."""
    if not newly:
        return
    statement = insert(VisitMonthCount).values(
        [
            {"month": m, "village_id": v, "klass": k, "households": added}
            for (m, v, k), added in newly.items()
        ]
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[
                VisitMonthCount.month,
                VisitMonthCount.village_id,
                VisitMonthCount.klass,
            ],
            set_={"households": VisitMonthCount.households + statement.excluded.households},
        )
    )


def count_visited(month: int, village_id: int, klass: str, step: int) -> None:
    """Move one month's count of visited households of a village and class, atomically."""
    statement = insert(VisitMonthCount).values(
        month=month, village_id=village_id, klass=klass, households=max(step, 0)
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[
                VisitMonthCount.month,
                VisitMonthCount.village_id,
                VisitMonthCount.klass,
            ],
            set_={"households": VisitMonthCount.households + step},
        )
    )


def household_changed(
    household: Household, before: dict, reason: str | None = None, actor=None
) -> None:
    """After a registry edit or an import: record a class change, and move the current
    month's row to the household's new class or village (past months keep what was in force
    then). `actor`: who made it, when not the signed-in user (an import in the background)."""
    if before.get("klass") not in (None, household.klass):
        db.session.add(
            KlassChange(
                household_id=household.id,
                klass_from=before["klass"],
                klass_to=household.klass,
                changed_at=utcnow(),
                changed_by_id=actor.id if actor is not None else _actor_id(),
                reason=reason,
            )
        )
    if before.get("klass") != household.klass or before.get("village_id") != household.village_id:
        _move_this_month(household)


def _move_this_month(household: Household) -> None:
    month = month_key(utcnow(), local_zone())
    row = db.session.get(VisitMonth, (household.id, month))
    if row is None:
        return
    count_visited(month, row.village_id, row.klass, -1)
    row.village_id, row.klass = household.village_id, household.klass
    count_visited(month, row.village_id, row.klass, +1)


def _actor_id() -> int | None:
    if has_request_context() and current_user.is_authenticated:
        return current_user.id
    return None
