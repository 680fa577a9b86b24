"""Coverage arithmetic: the village x class grid, the monthly trend, per-cadre figures and
the overdue list. The rules are written down in docs/coverage.md.

Every query reads maintained aggregates (household.last_visit_at, visit_month) or walks an
index one household at a time; none scans the visits of a period.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, or_, select, true, union
from sqlalchemy.sql.elements import ColumnElement

from .. import access
from ..extensions import db
from ..models import (
    KLASSES,
    Assignment,
    DeviceStatus,
    Household,
    KlassChange,
    Photo,
    SelfReport,
    Town,
    User,
    Village,
    Visit,
    VisitMonth,
    VisitMonthCount,
)
from ..settings import for_town
from . import snapshots
from .periods import Period


@dataclass
class Cell:
    households: int = 0
    visited: int = 0
    overdue: int = 0

    @property
    def coverage(self) -> float | None:
        return self.visited / self.households if self.households else None

    def add(self, other: "Cell") -> None:
        self.households += other.households
        self.visited += other.visited
        self.overdue += other.overdue


@dataclass
class VillageRow:
    village: Village
    cells: dict[str, Cell] = field(default_factory=lambda: {k: Cell() for k in KLASSES})
    late_reports: int = 0  # self-reports open past their deadline now, whatever the period

    @property
    def total(self) -> Cell:
        total = Cell()
        for cell in self.cells.values():
            total.add(cell)
        return total


@dataclass
class TownGrid:
    town: Town
    rhythm: dict
    rows: list[VillageRow]

    @property
    def totals(self) -> dict[str, Cell]:
        totals = {k: Cell() for k in KLASSES}
        for row in self.rows:
            for klass, cell in row.cells.items():
                totals[klass].add(cell)
        return totals

    @property
    def total(self) -> Cell:
        total = Cell()
        for cell in self.totals.values():
            total.add(cell)
        return total

    @property
    def late_reports(self) -> int:
        return sum(row.late_reports for row in self.rows)


def rhythm_for(town: Town | None) -> dict:
    return for_town(town)["rhythm_days"]


@dataclass
class Scope:
    """What a coverage page counts: the user's households in these villages, grouped by town
    because each town has its own visit rhythm."""

    user: User
    groups: list[tuple[Town, list[Village]]]
    _inactive: list[int] | None = field(default=None, repr=False)

    @property
    def villages(self) -> list[Village]:
        return [v for _, villages in self.groups for v in villages]

    @property
    def village_ids(self) -> list[int]:
        return [v.id for v in self.villages]

    def visible(self) -> ColumnElement[bool]:
        """Households in the user's scope and in these villages."""
        return and_(access.household_condition(self.user), self.in_villages())

    def in_villages(self) -> ColumnElement[bool]:
        """The page's choice of villages, for a query already scoped by server/access.py."""
        return Household.village_id.in_(self.village_ids)

    def condition(self) -> ColumnElement[bool]:
        """Households that count for coverage: visible and active."""
        return and_(self.visible(), Household.active.is_(True))

    def inactive_households(self) -> list[int]:
        """Deactivated households in scope, read once per page through their partial index."""
        if self._inactive is None:
            ids = set(self.village_ids)
            rows = db.session.execute(
                select(Household.id, Household.village_id).where(Household.active.is_(False))
            )
            self._inactive = [h for h, village_id in rows if village_id in ids]
        return self._inactive

    def rhythm_of_village(self) -> dict[int, dict]:
        rhythms = {}
        for town, villages in self.groups:  # a town's settings are read once, not per village
            rhythms.update(dict.fromkeys((v.id for v in villages), rhythm_for(town)))
        return rhythms

    def overdue(self, period: Period, now: datetime) -> ColumnElement[bool]:
        """One condition per distinct rhythm: usually every town keeps the defaults, and the
        condition needs no village list at all."""
        by_rhythm = defaultdict(list)
        for town, villages in self.groups:
            by_rhythm[tuple(sorted(rhythm_for(town).items()))] += [v.id for v in villages]
        if len(by_rhythm) == 1:
            return overdue_condition(period, now, dict(next(iter(by_rhythm))))
        return or_(
            *[
                and_(Household.village_id.in_(ids), overdue_condition(period, now, dict(rhythm)))
                for rhythm, ids in by_rhythm.items()
            ]
        )


def _cutoffs(rhythm: dict, moment: datetime) -> dict:
    return {klass: moment - timedelta(days=rhythm[klass]) for klass in KLASSES}


def overdue_condition(period: Period, now: datetime, rhythm: dict) -> ColumnElement[bool]:
    """No visit within the class rhythm before the judging moment (see Period.moment), and
    in the registry for longer than that rhythm."""
    moment = period.moment(now)
    cutoffs = _cutoffs(rhythm, moment)
    if moment >= now:
        visited_lately = or_(
            *[and_(Household.klass == k, Household.last_visit_at >= cutoffs[k]) for k in KLASSES]
        )
        late = or_(Household.last_visit_at.is_(None), ~visited_lately)
    else:
        late = ~exists().where(
            Visit.household_id == Household.id,
            Visit.visited_at >= case(*[(Household.klass == k, cutoffs[k]) for k in KLASSES]),
            Visit.visited_at < moment,
        )
    return and_(late, _entered_before(cutoffs, period))


def _entered_before(cutoffs: dict, period: Period) -> ColumnElement[bool]:
    """A household's entry into the registry counts as a visit on that day: its first visit
    is due one rhythm later, so no month before it entered finds it overdue."""
    days = {k: cutoffs[k].astimezone(period.zone).date() for k in KLASSES}
    return or_(
        Household.entered_on.is_(None),
        *[and_(Household.klass == k, Household.entered_on < days[k]) for k in KLASSES],
    )


def entered_by(period: Period) -> ColumnElement[bool]:
    """Households in the registry before the period ended: the ones it counts."""
    last_day = (period.end - timedelta(seconds=1)).astimezone(period.zone).date()
    return or_(Household.entered_on.is_(None), Household.entered_on <= last_day)


def klass_overrides(scope: Scope, period: Period, now: datetime) -> dict[int, str]:
    """Households whose class changed after a past period ended, with the class then."""
    if period.end > now:
        return {}
    rows = db.session.execute(
        select(KlassChange.household_id, KlassChange.klass_from)
        .join(Household, Household.id == KlassChange.household_id)
        .where(KlassChange.changed_at >= period.end, scope.condition())
        .order_by(KlassChange.household_id, KlassChange.changed_at.desc(), KlassChange.id.desc())
    ).all()
    overrides = {}
    for household_id, klass_from in rows:
        overrides[household_id] = klass_from  # the earliest change, read last, wins
    return overrides


def _visited_in(period: Period):
    return exists().where(
        VisitMonth.household_id == Household.id, VisitMonth.month.in_(period.month_keys)
    )


def _not_overridden(overrides) -> ColumnElement[bool]:
    return Household.id.not_in(list(overrides)) if overrides else true()


def _grid_rows(scope: Scope, period, now, overrides):
    """(village_id, klass, households, overdue) for households whose class did not change
    since the period ended: one pass over the households, no visit read for the current
    month (a past month probes each household's visits once)."""
    query = (
        select(
            Household.village_id,
            Household.klass,
            func.count(),
            func.sum(case((scope.overdue(period, now), 1), else_=0)),
        )
        .where(scope.condition(), entered_by(period), _not_overridden(overrides))
        .group_by(Household.village_id, Household.klass)
    )
    return db.session.execute(query).all()


def _overridden_facts(scope: Scope, overrides, period, now):
    """(household id, village id, visited in period, overdue) for the few households whose
    class changed since the period ended, judged by the class in force then."""
    if not overrides:
        return []
    moment = period.moment(now)
    last_before = (
        select(func.max(Visit.visited_at))
        .where(Visit.household_id == Household.id, Visit.visited_at < moment)
        .scalar_subquery()
    )
    rhythms = scope.rhythm_of_village()
    rows = db.session.execute(
        select(
            Household.id,
            Household.village_id,
            case((_visited_in(period), 1), else_=0),
            last_before,
            Household.entered_on,
        ).where(Household.id.in_(list(overrides)), scope.condition(), entered_by(period))
    ).all()
    facts = []
    for household_id, village_id, visited, last, entered_on in rows:
        cutoff = moment - timedelta(days=rhythms[village_id][overrides[household_id]])
        new = entered_on is not None and entered_on >= cutoff.astimezone(period.zone).date()
        late = (last is None or last < cutoff) and not new
        facts.append((household_id, village_id, visited, late))
    return facts


def visited_counts(scope: Scope, month_keys: list[int], by_village=True) -> dict[tuple, int]:
    """Households visited per (month, village, class in force at the month's end), from the
    counts kept with the visits, less the households deactivated since (they are few).
    `by_village=False`: per (month, None, class), summed by the database."""
    counts = defaultdict(int)
    where = (
        VisitMonthCount.month.in_(month_keys),
        VisitMonthCount.village_id.in_(scope.village_ids),
    )
    if by_village:  # one row per key already
        rows = select(
            VisitMonthCount.month,
            VisitMonthCount.village_id,
            VisitMonthCount.klass,
            VisitMonthCount.households,
        ).where(*where)
        for month, village_id, klass, households in db.session.execute(rows):
            counts[(month, village_id, klass)] += households
    else:
        sums = (
            select(
                VisitMonthCount.month, VisitMonthCount.klass, func.sum(VisitMonthCount.households)
            )
            .where(*where)
            .group_by(VisitMonthCount.month, VisitMonthCount.klass)
        )
        for month, klass, households in db.session.execute(sums):
            counts[(month, None, klass)] += int(households or 0)
    inactive = scope.inactive_households()
    if inactive:
        for month, village_id, klass in db.session.execute(
            select(VisitMonth.month, VisitMonth.village_id, VisitMonth.klass).where(
                VisitMonth.household_id.in_(inactive), VisitMonth.month.in_(month_keys)
            )
        ):
            counts[(month, village_id if by_village else None, klass)] -= 1
    return counts


def grids(scope: Scope, period: Period, now: datetime) -> list[TownGrid]:
    """One grid per town in scope, villages as rows and classes as columns. A closed month's
    households and overdue come from its snapshots (server/coverage/snapshots.py)."""
    rows = {v.id: VillageRow(v) for v in scope.villages}
    closed = snapshots.closed_month(scope, period, now)
    if closed is not None:
        for village_id, month in closed.items():
            for klass in KLASSES:
                households, late = len(month.members[klass]), len(month.overdue[klass])
                rows[village_id].cells[klass].add(Cell(households, 0, late))
    else:
        overrides = klass_overrides(scope, period, now)
        for village_id, klass, households, overdue in _grid_rows(scope, period, now, overrides):
            rows[village_id].cells[klass].add(Cell(households, 0, int(overdue or 0)))
        for household_id, village_id, _visited, overdue in _overridden_facts(
            scope, overrides, period, now
        ):
            rows[village_id].cells[overrides[household_id]].add(Cell(1, 0, int(overdue)))
    for (_month, village_id, klass), visited in visited_counts(scope, period.month_keys).items():
        rows[village_id].cells[klass].visited += visited
    for village_id, late in late_reports_by_village(scope, now).items():
        rows[village_id].late_reports = late
    return [
        TownGrid(town, rhythm_for(town), [rows[v.id] for v in villages])
        for town, villages in scope.groups
    ]


# --- self-reports ------------------------------------------------------------------------


def _open_reports(condition):
    return (
        select(SelfReport.id)
        .join(Household, Household.id == SelfReport.household_id)
        .where(SelfReport.handled_at.is_(None), condition)
    )


def late_reports_by_village(scope: Scope, now: datetime) -> dict[int, int]:
    """Self-reports still open past their response deadline, per village (active or not:
    a family's message waits whatever the household's state)."""
    query = (
        _open_reports(scope.visible())
        .where(SelfReport.due_at <= now)
        .with_only_columns(Household.village_id, func.count())
        .group_by(Household.village_id)
    )
    return dict(db.session.execute(query).all())


# --- trend -------------------------------------------------------------------------------


def trend(
    scope: Scope, months: list[Period], now_counts: dict | None = None
) -> dict[str, list[float | None]]:
    """Coverage by class for each month: households visited that month over households
    counted, both by the class in force at the month's end. `now_counts`: households by
    class today, when the caller has them already."""
    condition = scope.condition()
    keys = [m.month_keys[0] for m in months]
    visited = defaultdict(int)
    for (month, _village_id, klass), count in visited_counts(scope, keys, False).items():
        visited[(month, klass)] += count
    if now_counts is None:
        now_counts = dict(
            db.session.execute(
                select(Household.klass, func.count()).where(condition).group_by(Household.klass)
            ).all()
        )
    changes = db.session.execute(
        select(KlassChange.household_id, KlassChange.klass_from, KlassChange.changed_at)
        .join(Household, Household.id == KlassChange.household_id)
        .where(KlassChange.changed_at >= months[0].end, condition)
        .order_by(KlassChange.changed_at.desc())
    ).all()
    current = dict(
        db.session.execute(
            select(Household.id, Household.klass).where(
                Household.id.in_({c.household_id for c in changes})
            )
        ).all()
        if changes
        else []
    )
    series = {k: [] for k in KLASSES}
    for month, key in zip(months, keys, strict=True):
        counts = dict(now_counts)
        then = dict(current)
        for change in changes:  # newest first: undo each change made after this month
            if change.changed_at >= month.end:
                then[change.household_id] = change.klass_from
        for household_id, klass in then.items():
            if klass != current[household_id]:
                counts[current[household_id]] = counts.get(current[household_id], 0) - 1
                counts[klass] = counts.get(klass, 0) + 1
        for klass in KLASSES:
            total = counts.get(klass, 0)
            series[klass].append(visited[(key, klass)] / total if total else None)
    return series


# --- cadres ------------------------------------------------------------------------------


@dataclass
class CadreRow:
    cadre: User
    assigned: int = 0
    overdue: int = 0
    visited: int = 0
    visited_not_assigned: int = 0
    last_visit_at: datetime | None = None
    last_sync_at: datetime | None = None
    pending_records: int = 0
    pending_photos: int = 0
    open_reports: int = 0  # self-reports of the cadre's households not yet handled
    late_reports: int = 0  # of which past their response deadline


def _active_assignment_in(condition):
    return (
        select(Assignment.household_id)
        .join(Household, Household.id == Assignment.household_id)
        .where(Assignment.ended_at.is_(None), condition)
    )


def _visited_by_cadre_in(condition, period: Period | None):
    query = (
        select(Visit.id)
        .join(Household, Household.id == Visit.household_id)
        .where(Visit.cadre_id == User.id, condition)
    )
    if period is not None:
        query = query.where(Visit.visited_at >= period.start, Visit.visited_at < period.end)
    return exists(query)


# Up to about two towns, start from the households; beyond, from the cadres (a county's first
# page of cadres fills long before its households are all read).
HOUSEHOLD_DRIVEN_VILLAGES = 60


def cadre_page(scope: Scope, period, now, after: int | None, limit: int) -> list[CadreRow]:
    """Cadres holding households in scope now, or who visited one in the period; by id."""
    query = select(User).where(User.role == "cadre", _cadre_in_scope(scope, period))
    if after is not None:
        query = query.where(User.id > after)
    cadres = db.session.scalars(query.order_by(User.id).limit(limit + 1)).all()
    return cadre_rows(scope, cadres, period, now)


def _cadre_in_scope(scope: Scope, period) -> ColumnElement[bool]:
    condition = scope.condition()
    if len(scope.village_ids) <= HOUSEHOLD_DRIVEN_VILLAGES:
        holders = (
            select(Assignment.cadre_id)
            .join(Household, Household.id == Assignment.household_id)
            .where(Assignment.ended_at.is_(None), condition)
        )
        visitors = (
            select(Visit.cadre_id)
            .join(Household, Household.id == Visit.household_id)
            .where(condition, Visit.visited_at >= period.start, Visit.visited_at < period.end)
        )
        return User.id.in_(union(holders, visitors))
    holds = exists(_active_assignment_in(condition).where(Assignment.cadre_id == User.id))
    return or_(holds, _visited_by_cadre_in(condition, period))


def cadre_rows(scope: Scope, cadres, period: Period, now) -> list[CadreRow]:
    rows = {c.id: CadreRow(c) for c in cadres}
    if rows:
        condition = scope.condition()
        _fill_assigned(rows, scope, period, now)
        _fill_visited(rows, condition, period)
        _fill_devices(rows)
        _fill_reports(rows, scope, now)
    return list(rows.values())


def _fill_assigned(rows, scope: Scope, period, now) -> None:
    """Households the cadre holds now; overdue is the household's, whoever visited it."""
    for cadre_id, assigned, late in db.session.execute(
        select(
            Assignment.cadre_id,
            func.count(),
            func.sum(case((scope.overdue(period, now), 1), else_=0)),
        )
        .join(Household, Household.id == Assignment.household_id)
        .where(
            Assignment.cadre_id.in_(list(rows)), Assignment.ended_at.is_(None), scope.condition()
        )
        .group_by(Assignment.cadre_id)
    ):
        rows[cadre_id].assigned, rows[cadre_id].overdue = assigned, int(late or 0)


def _fill_visited(rows, condition, period) -> None:
    """Visits are credited to the cadre who made them, whoever holds the household now."""
    still_assigned = exists().where(
        Assignment.household_id == Visit.household_id,
        Assignment.cadre_id == Visit.cadre_id,
        Assignment.ended_at.is_(None),
    )
    in_period = and_(Visit.visited_at >= period.start, Visit.visited_at < period.end)
    for cadre_id, visited, moved in db.session.execute(
        select(
            Visit.cadre_id,
            func.count(Visit.household_id.distinct()),
            func.count(case((~still_assigned, Visit.household_id)).distinct()),
        )
        .join(Household, Household.id == Visit.household_id)
        .where(Visit.cadre_id.in_(list(rows)), in_period, condition)
        .group_by(Visit.cadre_id)
    ):
        rows[cadre_id].visited, rows[cadre_id].visited_not_assigned = visited, moved
    for cadre_id, last in db.session.execute(
        select(Visit.cadre_id, func.max(Visit.visited_at))
        .join(Household, Household.id == Visit.household_id)
        .where(Visit.cadre_id.in_(list(rows)), condition)
        .group_by(Visit.cadre_id)
    ):
        rows[cadre_id].last_visit_at = last


# A phone not heard from for this long, while its cadre synced from another since, is no
# longer one of the cadre's current devices: what it said last is not counted.
DEVICE_RETIRED_AFTER = timedelta(days=30)


def photos_missing_by_cadre(cadre_ids) -> dict[int, int]:
    """Photos the cadres' stored visits announced that the server has not received: they are
    still on a phone. Counted from the visits that announced any."""
    received = (
        select(func.count()).where(Photo.visit_id == Visit.id).correlate(Visit).scalar_subquery()
    )
    query = (
        select(Visit.cadre_id, func.sum(Visit.photos_expected - received))
        .where(Visit.cadre_id.in_(list(cadre_ids)), Visit.photos_expected > 0)
        .group_by(Visit.cadre_id)
    )
    return {cadre_id: max(int(n or 0), 0) for cadre_id, n in db.session.execute(query)}


def _fill_devices(rows) -> None:
    """What waits on the cadre's current phones after their last push: records not yet
    acknowledged and photos of them (kept per device at each push), plus the photos the
    server still misses from visits it holds."""
    devices = db.session.scalars(
        select(DeviceStatus).where(DeviceStatus.user_id.in_(list(rows)))
    ).all()
    latest = {}
    for device in devices:
        latest[device.user_id] = max(
            latest.get(device.user_id, device.last_sync_at), device.last_sync_at
        )
    for device in devices:
        if device.last_sync_at < latest[device.user_id] - DEVICE_RETIRED_AFTER:
            continue
        row = rows[device.user_id]
        row.last_sync_at = latest[device.user_id]
        row.pending_records += device.pending_records
        row.pending_photos += device.pending_photos
    for cadre_id, missing in photos_missing_by_cadre(rows).items():
        rows[cadre_id].pending_photos += missing


def _fill_reports(rows, scope: Scope, now) -> None:
    """Open self-reports of the households the cadre holds now (the one who must answer)."""
    query = (
        _open_reports(scope.visible())
        .join(Assignment, Assignment.household_id == SelfReport.household_id)
        .where(Assignment.cadre_id.in_(list(rows)), Assignment.ended_at.is_(None))
        .with_only_columns(
            Assignment.cadre_id,
            func.count(SelfReport.id.distinct()),
            func.count(case((SelfReport.due_at <= now, SelfReport.id)).distinct()),
        )
        .group_by(Assignment.cadre_id)
    )
    for cadre_id, waiting, late in db.session.execute(query):
        rows[cadre_id].open_reports, rows[cadre_id].late_reports = waiting, late


def visible_cadre(scope: Scope, cadre_id: int) -> User | None:
    """A cadre the user may drill into: one holding or having visited a household in scope."""
    condition = scope.condition()
    holds = exists(_active_assignment_in(condition).where(Assignment.cadre_id == User.id))
    return db.session.scalar(
        select(User).where(
            User.id == cadre_id,
            User.role == "cadre",
            or_(holds, _visited_by_cadre_in(condition, None)),
        )
    )


# --- overdue list ------------------------------------------------------------------------


def overdue_query(scope: Scope, period, now, klass=None, cadre_id=None):
    """Households overdue at the period's judging moment, optionally of one class (as in
    force at the period's end) or held now by one cadre. Order and page it by id. A closed
    month's overdue households are read from its snapshots."""
    query = select(Household).where(scope.condition())
    if cadre_id is not None:
        held = select(Assignment.household_id).where(
            Assignment.cadre_id == cadre_id, Assignment.ended_at.is_(None)
        )
        query = query.where(Household.id.in_(held))
    closed = snapshots.closed_month(scope, period, now)
    if closed is not None:
        return query.where(snapshots.one_of(Household.id, snapshots.overdue_ids(closed, klass)))
    overrides = klass_overrides(scope, period, now)
    if klass is not None:
        stable = and_(Household.klass == klass, _not_overridden(overrides))
        moved_in = [h for h, k in overrides.items() if k == klass]
        query = query.where(or_(stable, Household.id.in_(moved_in)) if moved_in else stable)
    overdue = and_(_not_overridden(overrides), scope.overdue(period, now))
    late = [h for h, _, _, late in _overridden_facts(scope, overrides, period, now) if late]
    return query.where(or_(overdue, Household.id.in_(late)) if late else overdue)


def last_visits_before(household_ids, moment: datetime) -> dict[int, datetime]:
    """Each household's last visit up to a judging moment (a period's end, or now), as
    credited for coverage. Read from the month rows, whose edges are the periods' edges."""
    query = (
        select(VisitMonth.household_id, func.max(VisitMonth.last_visit_at))
        .where(VisitMonth.household_id.in_(list(household_ids)))
        .where(VisitMonth.last_visit_at <= moment)
        .group_by(VisitMonth.household_id)
    )
    return dict(db.session.execute(query).all())


def village_order(query, after: tuple[int, int] | None):
    """Households by village, then id, after a given (village_id, id): the order the
    (village_id, id) index walks, so a first page of a county's list stops early."""
    if after is not None:
        village_id, household_id = after
        query = query.where(
            or_(
                Household.village_id > village_id,
                and_(Household.village_id == village_id, Household.id > household_id),
            )
        )
    return query.order_by(Household.village_id, Household.id)
