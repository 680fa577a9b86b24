"""Reporting periods: calendar months (and years, for exports) in the town's local time.

A period is [start, end) in UTC, its edges at local midnight, so a visit at 23:59 on the last
day, local time, falls inside it.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_today() -> date:
    return datetime.now(UTC).astimezone(local_zone()).date()


def month_key(moment: datetime, zone: ZoneInfo) -> int:
    """202605 for any moment in May 2026, local time."""
    local = moment.astimezone(zone)
    return local.year * 100 + local.month


@dataclass(frozen=True)
class Period:
    year: int
    month: int | None  # None: the whole year
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month or 1, 1, tzinfo=self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        if self.month is None or self.month == 12:
            return datetime(self.year + 1, 1, 1, tzinfo=self.zone).astimezone(UTC)
        return datetime(self.year, self.month + 1, 1, tzinfo=self.zone).astimezone(UTC)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}" if self.month else f"{self.year:04d}"

    @property
    def month_keys(self) -> list[int]:
        months = [self.month] if self.month else range(1, 13)
        return [self.year * 100 + m for m in months]

    def previous(self) -> "Period":
        if self.month is None:
            return Period(self.year - 1, None, self.zone)
        if self.month == 1:
            return Period(self.year - 1, 12, self.zone)
        return Period(self.year, self.month - 1, self.zone)

    def next(self) -> "Period":
        if self.month is None:
            return Period(self.year + 1, None, self.zone)
        if self.month == 12:
            return Period(self.year + 1, 1, self.zone)
        return Period(self.year, self.month + 1, self.zone)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def moment(self, now: datetime) -> datetime:
        """When "overdue" is judged: now for the running period, its end for a past one."""
        return min(now, self.end)


def current_month(now: datetime, zone: ZoneInfo) -> Period:
    local = now.astimezone(zone)
    return Period(local.year, local.month, zone)


def parse(raw: str | None, now: datetime, zone: ZoneInfo, allow_year=False) -> Period | None:
    """A period from "2026-05" (or "2026" where years are allowed); None when not valid or
    in the future. An empty value means the current month."""
    if not raw:
        return current_month(now, zone)
    found = _MONTH.match(raw)
    if found and 1 <= int(found[2]) <= 12 and int(found[1]) >= 2000:
        period = Period(int(found[1]), int(found[2]), zone)
    elif allow_year and (found := _YEAR.match(raw)) and int(found[1]) >= 2000:
        period = Period(int(found[1]), None, zone)
    else:
        return None
    return period if period.start <= now else None


def recent_months(last: Period, count: int) -> list[Period]:
    months = [last]
    while len(months) < count:
        months.append(months[-1].previous())
    return list(reversed(months))
