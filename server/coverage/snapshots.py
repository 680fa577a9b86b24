"""Closed-month snapshots: a past month's households and overdue households per village, by
the class in force at the month's end, judged once and then kept true by the change sequence.

Judging "overdue at the end of a past month" probes each household's visits (one index probe
per household, 60,000 for a county). Once judged, a village's figures are stored in
`month_snapshot` with:

- `stamp`: the change sequence read *before* the figures were (server/changes.py). Any
  household that changes afterwards -- its own fields (village, class, active), or a visit,
  late or not, stored, edited or removed -- takes a greater `change_seq` when its transaction
  commits. That is the same guarantee phones pull by, so a write path that skipped it would
  break sync as well; nothing here has to be told about a change.
- `judged_at` and `rhythm`: the month's end and the town's rhythm it was judged with. A
  settings change, or a village now in a town with another rhythm, judges it again.
- `members` and `overdue`: the household ids by class, so that each household changed since
  `stamp` can be taken out of the snapshot it was in and judged again on its own: a late visit
  costs one probe, not a village's, and a household that moved is taken out of its old
  village and put in its new one.

Before use, the snapshots of the villages in scope are brought up to date: households with
`change_seq > stamp` (read through the (change_seq, id) index) are judged again, villages with
no snapshot or another rhythm are judged whole. The result is written back on a connection of
its own, best effort: if that write cannot happen at once, the figures shown are still right
and the next page view does the work again.
"""

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Integer,
    any_,
    bindparam,
    case,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError

from .. import changes
from ..extensions import db
from ..models import KLASSES, Household, KlassChange, MonthSnapshot, Visit, utcnow
from . import stats
from .periods import Period
from .upsert import insert

log = logging.getLogger(__name__)

# Below this many ids a plain IN list; above, one parameter (an array, or JSON on SQLite).
SHORT_LIST = 500
STORED = ("judged_at", "rhythm", "stamp", "members", "overdue", "computed_at")


@dataclass
class VillageMonth:
    """A village's households and overdue households at a closed month's end, by class.
    Lists as stored; sets once the village is changed."""

    members: dict[str, list[int] | set[int]] = field(
        default_factory=lambda: {k: set() for k in KLASSES}
    )
    overdue: dict[str, list[int] | set[int]] = field(
        default_factory=lambda: {k: set() for k in KLASSES}
    )

    @classmethod
    def stored(cls, members: dict, overdue: dict) -> "VillageMonth":
        return cls(
            {k: members.get(k, []) for k in KLASSES},
            {k: overdue.get(k, []) for k in KLASSES},
        )

    def holding(self, household_ids: set[int]) -> set[int]:
        """Which of these households the village counts."""
        return {h for ids in self.members.values() for h in ids if h in household_ids}

    def _as_sets(self) -> None:
        for lists in (self.members, self.overdue):
            for klass in KLASSES:
                if not isinstance(lists[klass], set):
                    lists[klass] = set(lists[klass])

    def drop(self, household_ids: set[int]) -> None:
        self._as_sets()
        for klass in KLASSES:
            self.members[klass] -= household_ids
            self.overdue[klass] -= household_ids

    def put(self, household_id: int, klass: str, overdue: bool) -> None:
        self._as_sets()
        self.members[klass].add(household_id)
        if overdue:
            self.overdue[klass].add(household_id)

    def as_json(self) -> tuple[dict, dict]:
        return (
            {k: sorted(self.members[k]) for k in KLASSES},
            {k: sorted(self.overdue[k]) for k in KLASSES},
        )


def usable(scope: "stats.Scope", period: Period, now: datetime) -> bool:
    """Snapshots hold whole villages: for the supervisors and admins who count whole villages,
    for a closed month, and when this session has no change of its own not yet committed
    (its households have no new change_seq until the commit)."""
    session = db.session
    return (
        period.month is not None
        and period.end <= now
        and scope.user.role in ("admin", "supervisor")
        and bool(scope.village_ids)
        and not (session.new or session.dirty or session.deleted)
        and not session.info.get(changes.CHANGED)
    )


def closed_month(scope: "stats.Scope", period: Period, now: datetime) -> dict | None:
    """{village id: VillageMonth} for every village in scope, up to date; None when snapshots
    do not apply (see `usable`) and the caller counts the usual way."""
    if not usable(scope, period, now):
        return None
    stamp = changes.current_seq()  # first: whatever commits later has a greater number
    month, end = period.month_keys[0], period.end
    rhythms = scope.rhythm_of_village()
    kept, read_stamps = {}, {}
    for village_id, judged_at, rhythm, row_stamp, members, overdue in db.session.execute(
        select(
            MonthSnapshot.village_id,
            MonthSnapshot.judged_at,
            MonthSnapshot.rhythm,
            MonthSnapshot.stamp,
            MonthSnapshot.members,
            MonthSnapshot.overdue,
        ).where(MonthSnapshot.month == month, MonthSnapshot.village_id.in_(scope.village_ids))
    ):
        if judged_at == end and rhythm == rhythms[village_id]:
            kept[village_id] = VillageMonth.stored(members, overdue)
            read_stamps[village_id] = row_stamp
    whole = [v for v in scope.village_ids if v not in kept]
    touched = _touched(kept, read_stamps)
    again = set().union(*touched.values()) if touched else set()
    facts = _facts(scope, period, now, whole, again)

    result = dict(kept)
    for village_id in whole:
        result[village_id] = VillageMonth()
    for household_id, (village_id, klass, overdue) in facts.items():
        if village_id not in kept:
            result[village_id].put(household_id, klass, overdue)
    for village_id, household_ids in touched.items():
        result[village_id].drop(household_ids)
        for household_id in household_ids:
            fact = facts.get(household_id)
            if fact is not None and fact[0] == village_id:
                result[village_id].put(household_id, fact[1], fact[2])

    written = {v: result[v] for v in [*whole, *touched]}
    if written:  # and the stamps of those found unchanged, so the next look starts later
        unchanged = {v: read_stamps[v] for v in kept if v not in touched}
        _store(month, end, rhythms, stamp, written, unchanged)
    return result


def _touched(kept: dict, read_stamps: dict) -> dict[int, set[int]]:
    """Per kept village, the households changed since its stamp that are in it now or were
    in it then."""
    if not kept:
        return {}
    oldest = min(read_stamps.values())
    changed = db.session.execute(
        select(Household.id, Household.village_id, Household.change_seq).where(
            Household.change_seq > oldest
        )
    ).all()
    if not changed:
        return {}
    seq_of = {h: seq for h, _village, seq in changed}
    touched = defaultdict(set)
    for household_id, village_id, seq in changed:
        if village_id in kept and seq > read_stamps[village_id]:
            touched[village_id].add(household_id)
    changed_ids = set(seq_of)
    for village_id, month in kept.items():
        for household_id in month.holding(changed_ids):
            if seq_of[household_id] > read_stamps[village_id]:
                touched[village_id].add(household_id)
    return dict(touched)


def _facts(scope, period: Period, now, villages: list[int], household_ids: set[int]) -> dict:
    """{household id: (village id, class at the month's end, overdue at its end)} for the
    active households of these villages and these households, wherever they are now (those
    outside the scope's villages are left out)."""
    if not villages and not household_ids:
        return {}
    end = period.end
    rhythms = scope.rhythm_of_village()
    wanted = or_(
        Household.village_id.in_(villages) if villages else false(),
        one_of(Household.id, sorted(household_ids)) if household_ids else false(),
    )
    condition = (
        Household.active.is_(True),
        Household.village_id.in_(list(rhythms)),
        stats.entered_by(period),
        wanted,
    )
    facts = {}
    for household_id, village_id, klass, overdue in db.session.execute(
        select(
            Household.id,
            Household.village_id,
            Household.klass,
            case((scope.overdue(period, now), 1), else_=0),
        ).where(*condition)
    ):
        facts[household_id] = (village_id, klass, bool(overdue))
    # The class in force at the month's end: the first change after it says what it was.
    then = {}
    for household_id, klass_from in db.session.execute(
        select(KlassChange.household_id, KlassChange.klass_from)
        .join(Household, Household.id == KlassChange.household_id)
        .where(KlassChange.changed_at >= end, *condition)
        .order_by(KlassChange.household_id, KlassChange.changed_at.desc(), KlassChange.id.desc())
    ):
        then[household_id] = klass_from  # the earliest change, read last, wins
    moved = [h for h, klass in then.items() if h in facts and facts[h][1] != klass]
    last = {}
    if moved:
        last = dict(
            db.session.execute(
                select(Visit.household_id, func.max(Visit.visited_at))
                .where(Visit.household_id.in_(moved), Visit.visited_at < end)
                .group_by(Visit.household_id)
            ).all()
        )
    for household_id in moved:
        village_id = facts[household_id][0]
        klass = then[household_id]
        seen = last.get(household_id)
        limit = end - timedelta(days=rhythms[village_id][klass])
        facts[household_id] = (village_id, klass, seen is None or seen < limit)
    return facts


def _store(month, end, rhythms, stamp, written: dict, unchanged: dict) -> None:
    """Write the judged villages back, and move the stamp of those found unchanged; on a
    connection of its own, waiting on no one (another page view will do it otherwise)."""
    rows = []
    for village_id, village in written.items():
        members, overdue = village.as_json()
        rows.append(
            dict(
                village_id=village_id,
                month=month,
                judged_at=end,
                rhythm=rhythms[village_id],
                stamp=stamp,
                members=members,
                overdue=overdue,
                computed_at=utcnow(),
            )
        )
    by_stamp = defaultdict(list)
    for village_id, old in unchanged.items():
        by_stamp[old].append(village_id)
    try:
        with db.engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                waited = int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar())
                conn.exec_driver_sql("PRAGMA busy_timeout = 200")
            else:
                conn.exec_driver_sql("SET LOCAL lock_timeout = '1s'")
            try:
                for start in range(0, len(rows), 100):
                    statement = insert(MonthSnapshot).values(rows[start : start + 100])
                    conn.execute(
                        statement.on_conflict_do_update(
                            index_elements=[MonthSnapshot.village_id, MonthSnapshot.month],
                            set_={name: statement.excluded[name] for name in STORED},
                        )
                    )
                for old, village_ids in by_stamp.items():
                    # Only where the row is still the one found unchanged.
                    conn.execute(
                        update(MonthSnapshot)
                        .where(
                            MonthSnapshot.month == month,
                            MonthSnapshot.village_id.in_(village_ids),
                            MonthSnapshot.stamp == old,
                            MonthSnapshot.stamp < stamp,
                        )
                        .values(stamp=stamp)
                    )
                conn.commit()
            finally:
                conn.rollback()
                if sqlite:
                    conn.exec_driver_sql(f"PRAGMA busy_timeout = {waited}")
                    conn.commit()
    except DBAPIError as error:
        log.warning("month snapshot not stored (%s); it will be judged again", error)


def one_of(column, ids: list[int]):
    """column IN ids, as one parameter when the list is long."""
    if not ids:
        return false()
    if len(ids) <= SHORT_LIST:
        return column.in_(ids)
    if db.engine.dialect.name == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(BigInteger)))
    values = func.json_each(json.dumps(ids)).table_valued("value")
    return column.in_(select(values.c.value.cast(Integer)))


def overdue_ids(closed: dict, klass: str | None) -> list[int]:
    return sorted(
        h
        for village in closed.values()
        for k, ids in village.overdue.items()
        if klass in (None, k)
        for h in ids
    )
