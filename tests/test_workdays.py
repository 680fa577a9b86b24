"""Response deadlines count working days as the State Council schedules them (调休 included),
Monday to Friday for a year not yet published, with the town office's own marked days."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server import settings, tasks, workdays
from server.extensions import db
from tests.test_coverage import _form_token
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


def test_an_admin_sets_the_towns_days_and_marked_dates(world, login):
    admin = login("admin")
    url = f"/office/towns/{world.town.id}/settings"
    page = admin.get(url).get_data(as_text=True)
    assert "report_days_normal" in page and "extra_holidays" in page
    values = {
        "csrf_token": _form_token(page),
        **{f"rhythm_{k}": "30" for k in "ABCD"},
        "flag_distance_m": "500",
        "device_clock_tolerance_s": "600",
        "flag_accuracy_max_m": "1000",
        "flag_speed_window_min": "120",
        "flag_speed_min_distance_m": "1000",
        "flag_speed_kmh": "60",
        "report_days_normal": "3",
        "report_days_urgent": "1",
        "extra_holidays": "2027-01-11, 2027-01-12",
        "extra_workdays": "",
    }
    for bad in ({"extra_holidays": "2027-13-01"}, {"report_days_normal": "0"}):
        assert admin.post(url, data=values | bad).status_code == 422
        db.session.expire_all()
        assert world.town.settings == {}
    assert admin.post(url, data=values).status_code == 302
    db.session.expire_all()
    town = settings.for_town(world.town)
    assert town["report_response_days"] == {"normal": 3, "urgent": 1}
    assert town["extra_holidays"] == ["2027-01-11", "2027-01-12"]
    friday = local(2027, 1, 8, 9)
    due = tasks.response_due(world.h_chengzi, True, friday).astimezone(ZONE)
    assert due.date().isoformat() == "2027-01-14"  # the end of Wednesday the 13th
    report = make_report(world.h_chengzi, "housing", False)
    assert report.due_at == workdays.deadline(
        report.received_at, 3, ZONE, holidays=town["extra_holidays"]
    )
