"""Working days as the State Council schedules them, with 调休 (weekend days made working days
and weekdays made holidays), for the self-report response deadlines.

The schedule comes from the `chinesecalendar` package, which knows each year once it is
published. A year it does not know yet counts Monday to Friday, and a town office can mark
its own exceptions (extra holidays or working days) in the town settings.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar


def is_working_day(day: date, holidays=(), workdays=()) -> bool:
    """`holidays` and `workdays` are ISO dates the town marked, and win over the schedule."""
    iso = day.isoformat()
    if iso in holidays:
        return False
    if iso in workdays:
        return True
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # a year not yet published
        return day.weekday() < 5


def deadline(received_at: datetime, days: int, zone: ZoneInfo, holidays=(), workdays=()):
    """The end (local midnight) of the `days`-th working day after the day of receipt, in UTC.

    A report received on Friday with one working day gets Monday; received during the
    National Day week it gets the first working day after the holiday."""
    day = received_at.astimezone(zone).date()
    left = max(days, 0)
    while left:
        day += timedelta(days=1)
        if is_working_day(day, holidays, workdays):
            left -= 1
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return end.astimezone(UTC)
