"""A push keeps the coverage bookkeeping for its whole batch at once (server/sync/visits.py,
server/coverage/aggregates.py and flags.py): the result must be exactly what the same visits
make when they arrive one push at a time."""

import threading
from datetime import timedelta

from sqlalchemy import delete, select, update

from server.extensions import db
from server.models import (
    Assignment,
    CropRecord,
    Household,
    NeedsAction,
    Visit,
    VisitFlag,
    VisitMonth,
    VisitMonthCount,
    utcnow,
)
from tests.syncdata import SHANGHAI, results, visit

HOME = {"lat": 36.4500, "lon": 118.0500, "accuracy_m": 15.0}
FAR = {"lat": 36.5000, "lon": 118.0500, "accuracy_m": 15.0}  # 5.6 km north
NOW = utcnow().replace(microsecond=0)


def at(days: float, minutes: float = 0) -> str:
    return (NOW - timedelta(days=days, minutes=-minutes)).astimezone(SHANGHAI).isoformat()


def the_visits(first: int, second: int) -> list[dict]:
    """A cadre's offline weeks: routine visits at home, a far one, two households minutes
    and kilometres apart, two visits in one month, no location, a useless fix, an illness."""
    return [
        visit(first, visited_at=at(80), location=HOME),
        visit(first, visited_at=at(50), location=HOME),
        visit(first, visited_at=at(20), location=HOME),
        visit(first, visited_at=at(3), location=FAR),  # far from the median of the three
        visit(second, visited_at=at(3, minutes=2), location=HOME),  # 5.6 km in 2 minutes
        visit(first, visited_at=at(2), location=HOME),  # second visit of the month
        visit(second, visited_at=at(1), location=None),
        visit(second, visited_at=at(1, minutes=30), location=HOME | {"accuracy_m": 0.0}),
        visit(first, visited_at=at(0.5), location=HOME, sudden_event="illness"),
    ]


def bookkeeping(records: list[dict]) -> dict:
    db.session.rollback()
    by_id = dict(db.session.execute(select(Visit.id, Visit.uuid)).all())
    order = {r["uuid"]: n for n, r in enumerate(records)}  # ids differ between the two runs
    return {
        "flags": sorted(
            (order[by_id[v]], kind)
            for v, kind in db.session.execute(select(VisitFlag.visit_id, VisitFlag.kind))
        ),
        "needs": sorted(
            (order[by_id[v]], reason)
            for v, reason in db.session.execute(select(NeedsAction.source_id, NeedsAction.reason))
        ),
        "months": sorted(
            db.session.execute(
                select(
                    VisitMonth.household_id,
                    VisitMonth.month,
                    VisitMonth.visits,
                    VisitMonth.last_visit_at,
                    VisitMonth.klass,
                )
            ).all()
        ),
        "counts": sorted(db.session.execute(select(VisitMonthCount.__table__)).all()),
        "last_visits": sorted(db.session.execute(select(Household.id, Household.last_visit_at))),
    }


def forget_the_visits() -> None:
    for model in (VisitFlag, NeedsAction, VisitMonth, VisitMonthCount, CropRecord, Visit):
        db.session.execute(delete(model))
    db.session.execute(update(Household).values(last_visit_at=None))
    db.session.commit()


def test_one_batch_keeps_what_one_push_per_visit_keeps(world, login):
    world.h_shamao.village = world.h_chengzi.village
    db.session.add(Assignment(household=world.h_shamao, cadre=world.users["chengzi_cadre"]))
    db.session.commit()
    cadre = login("chengzi_cadre")
    records = the_visits(world.h_chengzi.id, world.h_shamao.id)

    assert all(r["status"] == "created" for r in results(cadre, records))
    batched = bookkeeping(records)
    forget_the_visits()
    for record in records:
        assert results(cadre, [record])[0]["status"] == "created"
    one_by_one = bookkeeping(records)

    assert batched == one_by_one
    assert batched["flags"] == [
        (3, "far_from_home"),
        (3, "implausible_speed"),
        (4, "implausible_speed"),
        (6, "no_location"),
        (7, "bad_accuracy"),
    ]
    assert batched["needs"] == [(8, "illness")]
    months = [m for m in batched["months"] if m[0] == world.h_chengzi.id]
    assert sum(m[2] for m in months) == 6 and len(months) < 6  # a month's visits: one row


def test_two_phones_pushing_the_same_household_at_once_count_it_once(world, login):
    """Both pushes store their visits; the month row adds both, the village's count of
    visited households moves by one, and the last visit is the later of the two."""
    household = world.h_chengzi.id
    phones = [login("chengzi_cadre") for _ in range(2)]
    noon = (NOW - timedelta(days=40)).astimezone(SHANGHAI).replace(day=15, hour=12, minute=0)
    batches = [
        [visit(household, visited_at=(noon + timedelta(minutes=n)).isoformat()) for n in range(3)],
        [
            visit(household, visited_at=(noon + timedelta(hours=1, minutes=n)).isoformat())
            for n in range(3)
        ],
    ]
    barrier = threading.Barrier(2)
    answers: list = [None, None]

    def push_from(index):
        barrier.wait()
        answers[index] = results(phones[index], batches[index])

    threads = [threading.Thread(target=push_from, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(r["status"] == "created" for answer in answers for r in answer)
    kept = bookkeeping(batches[0] + batches[1])
    [month] = [m for m in kept["months"] if m[0] == household]
    assert month[2] == 6
    assert [c.households for c in kept["counts"]] == [1]
    last = dict(kept["last_visits"])[household]
    assert last == max(m[3] for m in kept["months"]) == noon + timedelta(hours=1, minutes=2)
