"""Flags on visits that deserve a supervisor's look, each with its reason.

`flag_visits(stored)` checks a batch of newly stored visits (the sync push calls it): one
query for the households' earlier fixes, one for the cadres' visits close in time, one insert
for all the flags. `flag_visit(visit)` checks one ORM visit and its photos; `flag_photo(photo)`
runs after a photo is stored. Running any of them again on the same rows adds no second flag.
"""

import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from datetime import timedelta
from statistics import median

from sqlalchemy import select

from ..extensions import db
from ..models import Photo, Visit, VisitFlag
from ..settings import for_town
from .stored import StoredVisit
from .upsert import insert

FLAG_KINDS = (
    "no_location",
    "far_from_home",
    "bad_accuracy",
    "device_time",
    "duplicate_photo",
    "implausible_speed",
)
# A household's usual position from its own visits needs at least this many earlier fixes.
MIN_FIXES_FOR_MEDIAN = 3
RECENT_FIXES = 20
EARTH_RADIUS_M = 6_371_000
FLAGS_PER_INSERT = 2_000  # 3 parameters a row: well within SQLite's 32,766


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _position_set(household) -> bool:
    return household.lat is not None and household.lon is not None


def _bad_accuracy(visit: StoredVisit, settings: dict) -> dict | None:
    if not visit.located:
        return None
    accuracy, limit = visit.accuracy_m, settings["flag_accuracy_max_m"]
    if accuracy is None or accuracy <= 0 or accuracy > limit:
        return {"accuracy_m": accuracy, "max_m": limit}
    return None


def usual_position(visit: StoredVisit, fixes: list) -> tuple[float, float, str, int] | None:
    """The household's position set by an admin, else the median of its last located visits
    before this one. `fixes`: the household's located visits, latest first."""
    household = visit.household
    if _position_set(household):
        return household.lat, household.lon, "household", 0
    earlier = [f for f in fixes if f.visited_at < visit.visited_at and f.id != visit.id]
    earlier = earlier[:RECENT_FIXES]
    if len(earlier) < MIN_FIXES_FOR_MEDIAN:
        return None
    return median(f.lat for f in earlier), median(f.lon for f in earlier), "visits", len(earlier)


def _earlier_fixes(visits: list[StoredVisit]) -> dict[int, list]:
    """The located visits of the batch's households without a set position, latest first."""
    households = {v.household_id for v in visits if v.located and not _position_set(v.household)}
    fixes = defaultdict(list)
    if not households:
        return fixes
    rows = db.session.execute(
        select(Visit.id, Visit.household_id, Visit.lat, Visit.lon, Visit.visited_at)
        .where(
            Visit.household_id.in_(households),
            Visit.visited_at < max(v.visited_at for v in visits),
            Visit.lat.is_not(None),
            Visit.lon.is_not(None),
        )
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
    )
    for row in rows:
        fixes[row.household_id].append(row)
    return fixes


def _far_from_home(visit: StoredVisit, settings: dict, fixes: list) -> dict | None:
    if not visit.located:
        return None
    usual = usual_position(visit, fixes)
    if usual is None:
        return None
    lat, lon, reference, count = usual
    distance = distance_m(visit.lat, visit.lon, lat, lon)
    if distance <= settings["flag_distance_m"]:
        return None
    return {
        "distance_m": round(distance),
        "threshold_m": settings["flag_distance_m"],
        "reference": reference,
        "fixes": count,
    }


def _device_time(visit: StoredVisit, settings: dict, recorded_online: bool) -> dict | None:
    tolerance = settings["device_clock_tolerance_s"]
    if visit.device_time_suspect:
        return {"reason": "suspect"}
    ahead = (visit.visited_at - visit.received_at).total_seconds()
    if ahead > tolerance:
        return {"reason": "ahead", "seconds": round(ahead), "tolerance_s": tolerance}
    if recorded_online and -ahead > tolerance:
        return {"reason": "behind", "seconds": round(-ahead), "tolerance_s": tolerance}
    return None


class CadreTrips:
    """The located visits of the batch's cadres around the batch's times, sorted by time, so
    each visit finds the others within its window by bisection (plain rows: a cadre with many
    visits in the window must stay cheap)."""

    def __init__(self, visits: list[StoredVisit], window: timedelta):
        self.rows = defaultdict(list)
        located = [v for v in visits if v.located]
        if not located:
            return
        rows = db.session.execute(
            select(
                Visit.id, Visit.household_id, Visit.lat, Visit.lon, Visit.visited_at, Visit.cadre_id
            )
            .where(
                Visit.cadre_id.in_({v.cadre_id for v in located}),
                Visit.visited_at >= min(v.visited_at for v in located) - window,
                Visit.visited_at <= max(v.visited_at for v in located) + window,
                Visit.lat.is_not(None),
                Visit.lon.is_not(None),
            )
            .order_by(Visit.visited_at, Visit.id)
        )
        for row in rows:
            self.rows[row.cadre_id].append(row)
        self.times = {cadre: [r.visited_at for r in rows] for cadre, rows in self.rows.items()}

    def fastest(self, visit: StoredVisit, settings: dict) -> tuple | None:
        """The fastest trip between this visit and another of the same cadre close in time."""
        if not visit.located or visit.cadre_id not in self.rows:
            return None
        window = timedelta(minutes=settings["flag_speed_window_min"])
        times, rows = self.times[visit.cadre_id], self.rows[visit.cadre_id]
        first = bisect_left(times, visit.visited_at - window)
        last = bisect_right(times, visit.visited_at + window)
        worst = None
        for other in rows[first:last]:
            if other.id == visit.id or other.household_id == visit.household_id:
                continue
            distance = distance_m(visit.lat, visit.lon, other.lat, other.lon)
            if distance < settings["flag_speed_min_distance_m"]:
                continue
            hours = max(abs((visit.visited_at - other.visited_at).total_seconds()), 1) / 3600
            speed = distance / 1000 / hours
            if speed > settings["flag_speed_kmh"] and (
                worst is None or speed > worst[1]["speed_kmh"]
            ):
                worst = (other, _speed_detail(other, distance, hours, speed, settings))
        return worst


def _speed_detail(other, distance, hours, speed, settings) -> dict:
    return {
        "other_visit_id": other.id,
        "other_household_id": other.household_id,
        "distance_m": round(distance),
        "minutes": round(hours * 60, 1),
        "speed_kmh": round(speed),
        "max_kmh": settings["flag_speed_kmh"],
    }


def _speed_detail_back(visit: StoredVisit, detail: dict) -> dict:
    return detail | {"other_visit_id": visit.id, "other_household_id": visit.household_id}


def raise_flags(flags: list[tuple[int, str, dict]]) -> None:
    """Once per visit and kind: a flag already there (checked or not) stays as it is, and the
    first of two for the same visit and kind in `flags` wins."""
    rows = {}
    for visit_id, kind, detail in flags:
        rows.setdefault((visit_id, kind), {"visit_id": visit_id, "kind": kind, "detail": detail})
    rows = list(rows.values())
    for start in range(0, len(rows), FLAGS_PER_INSERT):
        db.session.execute(
            insert(VisitFlag)
            .values(rows[start : start + FLAGS_PER_INSERT])
            .on_conflict_do_nothing(index_elements=[VisitFlag.visit_id, VisitFlag.kind])
        )


def raise_flag(visit_id: int, kind: str, detail: dict) -> None:
    raise_flags([(visit_id, kind, detail)])


def _town_settings(visits: list[StoredVisit]) -> dict[int, dict]:
    towns = {v.household.village.town.id: v.household.village.town for v in visits}
    return {town_id: for_town(town) for town_id, town in towns.items()}


def flag_visits(visits: list[StoredVisit], recorded_online: bool = False) -> dict[int, list]:
    """Check newly stored visits and store a flag per reason found; returns the kinds raised
    by visit id.

    `recorded_online`: the phone saved the visits while connected, so their times should
    match the server's receipt; an offline visit legitimately arrives later."""
    if not visits:
        return {}
    settings = _town_settings(visits)
    fixes = _earlier_fixes(visits)
    longest = max(s["flag_speed_window_min"] for s in settings.values())
    trips = CadreTrips(visits, timedelta(minutes=longest))
    flags, kinds = [], {}
    for visit in visits:
        rules = settings[visit.household.village.town.id]
        found = {
            "no_location": None if visit.located else {},
            "bad_accuracy": _bad_accuracy(visit, rules),
            "far_from_home": _far_from_home(visit, rules, fixes[visit.household_id]),
            "device_time": _device_time(visit, rules, recorded_online),
        }
        trip = trips.fastest(visit, rules)
        if trip is not None:
            other, found["implausible_speed"] = trip
            flags.append((other.id, "implausible_speed", _speed_detail_back(visit, trip[1])))
        found = {kind: detail for kind, detail in found.items() if detail is not None}
        flags += [(visit.id, kind, detail) for kind, detail in found.items()]
        kinds[visit.id] = sorted(found)
    raise_flags(flags)
    return kinds


def flag_visit(visit: Visit, recorded_online: bool = False) -> list[str]:
    """Check one stored ORM visit, its photos too; returns the kinds raised."""
    if visit.id is None or visit.received_at is None:
        db.session.flush()
    found = flag_visits([StoredVisit.of(visit)], recorded_online)[visit.id]
    if any([flag_photo(photo) for photo in visit.photos]):
        found = sorted({*found, "duplicate_photo"})
    return found


def flag_photo(photo: Photo) -> bool:
    """The same picture (by hash) on visits of different households flags all of them."""
    if photo.visit_id is None:
        return False
    twins = db.session.execute(
        select(Photo.visit_id, Photo.household_id).where(
            Photo.sha256 == photo.sha256,
            Photo.household_id != photo.household_id,
            Photo.visit_id.is_not(None),
        )
    ).all()
    if not twins:
        return False
    detail = {
        "sha256": photo.sha256,
        "other_visit_ids": sorted({t.visit_id for t in twins}),
        "other_household_ids": sorted({t.household_id for t in twins}),
    }
    raise_flag(photo.visit_id, "duplicate_photo", detail)
    for twin in twins:
        raise_flag(
            twin.visit_id,
            "duplicate_photo",
            {
                "sha256": photo.sha256,
                "other_visit_ids": [photo.visit_id],
                "other_household_ids": [photo.household_id],
            },
        )
    return True
