"""Aggregates kept with each visit, so coverage pages never scan the visits table:
the household's last visit, its row per visited month, and what needs action.

The sync code calls `record_visit_aggregates(household, visit)` in the transaction that
stores the visit, and `flag_visit(visit)` (server.coverage.flags) after it.
"""

from datetime import datetime

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import case, literal, select, update

from ..extensions import db
from ..models import Household, KlassChange, VisitMonth, VisitMonthCount, utcnow
from ..models.types import UTCDateTime
from .needs import raise_for_visit
from .periods import Period, local_zone, month_key
from .upsert import insert


def credited_time(visit) -> datetime:
    """When the visit counts as done: a phone clock running ahead of the server's receipt
    cannot push a household's last visit into the future."""
    received = visit.received_at
    return min(visit.visited_at, received) if received is not None else visit.visited_at


def klass_at(household: Household, moment: datetime) -> str:
    """The class in force at `moment`: the first change after it tells what it was then."""
    first_later = db.session.scalar(
        select(KlassChange.klass_from)
        .where(KlassChange.household_id == household.id, KlassChange.changed_at >= moment)
        .order_by(KlassChange.changed_at, KlassChange.id)
        .limit(1)
    )
    return first_later or household.klass


def _upsert_visit_month(household: Household, visit, credited: datetime) -> None:
    zone = local_zone()
    month = month_key(visit.visited_at, zone)
    month_end = Period(month // 100, month % 100, zone).end
    statement = insert(VisitMonth).values(
        household_id=household.id,
        month=month,
        village_id=household.village_id,
        klass=klass_at(household, month_end),
        visits=1,
        last_visit_at=credited,
    )
    later = statement.excluded.last_visit_at
    statement = statement.on_conflict_do_update(
        index_elements=[VisitMonth.household_id, VisitMonth.month],
        set_={
            "visits": VisitMonth.visits + 1,
            "last_visit_at": case(
                (VisitMonth.last_visit_at < later, later), else_=VisitMonth.last_visit_at
            ),
        },
    ).returning(VisitMonth.visits, VisitMonth.village_id, VisitMonth.klass)
    visits, village_id, klass = db.session.execute(statement).one()
    if visits == 1:  # the household's first visit this month
        count_visited(month, village_id, klass, +1)


def count_visited(month: int, village_id: int, klass: str, step: int) -> None:
    """Move the month's count of visited households of a village and class, atomically."""
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


def _advance_last_visit(household: Household, credited: datetime) -> None:
    """An atomic max(), so two visits stored at once both count."""
    moment = literal(credited, UTCDateTime())
    db.session.execute(
        update(Household)
        .where(Household.id == household.id)
        .values(
            last_visit_at=case(
                (Household.last_visit_at.is_(None), moment),
                (Household.last_visit_at < moment, moment),
                else_=Household.last_visit_at,
            )
        )
        .execution_options(synchronize_session=False)
    )
    db.session.expire(household, ["last_visit_at"])


def record_visit_aggregates(household: Household, visit) -> None:
    """Keep the household's last visit, its month row and its needs-action items in step with
    a newly stored visit. Call once per visit, in the transaction that stores it."""
    if visit.id is None or visit.received_at is None:
        db.session.flush()
    credited = credited_time(visit)
    _advance_last_visit(household, credited)
    _upsert_visit_month(household, visit, credited)
    raise_for_visit(visit, credited)


def household_changed(household: Household, before: dict, reason: str | None = None) -> None:
    """After a registry edit: record a class change, and move the current month's row to the
    household's new class or village (past months keep what was in force then)."""
    if before.get("klass") not in (None, household.klass):
        db.session.add(
            KlassChange(
                household_id=household.id,
                klass_from=before["klass"],
                klass_to=household.klass,
                changed_at=utcnow(),
                changed_by_id=_actor_id(),
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
