"""Response deadlines count working days as the State Council schedules them (调休 included),
Monday to Friday for a year not yet published, with the town office's own marked days."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server import tasks, workdays
from server.extensions import db
from tests.test_selfreport import make_report

ZONE = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=ZONE)


def due_day(received: datetime, days: int, **marked) -> str:
    """The last local day of the deadline (it ends at the next local midnight)."""
    end = workdays.deadline(received, days, ZONE, **marked).astimezone(ZONE)
    assert (end.hour, end.minute) == (0, 0)
    return (end - timedelta(days=1)).date().isoformat()


@pytest.mark.parametrize(
    "received, days, last_day",
    [
        (local(2026, 9, 30, 10), 1, "2026-10-08"),  # National Day week is no working day
        (local(2026, 10, 8, 23, 50), 2, "2026-10-10"),  # Saturday 10 October is worked (调休)
        (local(2026, 2, 13, 9), 5, "2026-02-27"),  # Saturday 14 Feb worked, Spring Festival off
        (local(2026, 11, 27, 18), 1, "2026-11-30"),  # Friday evening: Monday
        (local(2027, 1, 8, 9), 1, "2027-01-11"),  # 2027 not yet published: Monday to Friday
    ],
)
def test_deadlines_follow_the_state_council_schedule(received, days, last_day):
    assert due_day(received, days) == last_day


def test_the_town_office_marks_its_own_days():
    friday = local(2027, 1, 8, 9)
    assert due_day(friday, 1, holidays=("2027-01-11",)) == "2027-01-12"
    assert due_day(friday, 1, workdays=("2027-01-09",)) == "2027-01-09"


def test_the_deadline_is_in_utc():
    end = workdays.deadline(local(2026, 11, 27, 18), 1, ZONE)
    assert end == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


def test_a_report_gets_the_towns_number_of_working_days(world):
    world.town.settings = {"report_response_days": {"normal": 2, "urgent": 1}}
    db.session.commit()
    normal = make_report(world.h_chengzi, "housing", False)
    urgent = make_report(world.h_chengzi, "illness", True)
    received = normal.received_at
    assert normal.due_at == tasks.response_due(world.h_chengzi, False, received)
    assert normal.due_at == workdays.deadline(received, 2, ZONE)
    assert urgent.due_at == workdays.deadline(urgent.received_at, 1, ZONE)
    elsewhere = make_report(world.h_other_town, "work", False)  # the default: five
    assert elsewhere.due_at == workdays.deadline(elsewhere.received_at, 5, ZONE)
