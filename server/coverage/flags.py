"""Flags on visits that deserve a supervisor's look, each with its reason.

`flag_visit(visit)` runs after a visit is stored (the sync code calls it), `flag_photo(photo)`
after a photo is stored; both may run again on the same row without adding a second flag.
"""

import math
from datetime import timedelta
from statistics import median

from sqlalchemy import select

from ..extensions import db
from ..models import Photo, Visit, VisitFlag
from ..settings import for_town
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


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _located(visit: Visit) -> bool:
    return visit.lat is not None and visit.lon is not None


def _no_location(visit: Visit, settings: dict) -> dict | None:
    return None if _located(visit) else {}


def _bad_accuracy(visit: Visit, settings: dict) -> dict | None:
    if not _located(visit):
        return None
    accuracy, limit = visit.accuracy_m, settings["flag_accuracy_max_m"]
    if accuracy is None or accuracy <= 0 or accuracy > limit:
        return {"accuracy_m": accuracy, "max_m": limit}
    return None


def usual_position(visit: Visit) -> tuple[float, float, str, int] | None:
    """The household's position set by an admin, else the median of its earlier fixes."""
    household = visit.household
    if household.lat is not None and household.lon is not None:
        return household.lat, household.lon, "household", 0
    fixes = db.session.execute(
        select(Visit.lat, Visit.lon)
        .where(
            Visit.household_id == visit.household_id,
            Visit.id != visit.id,
            Visit.visited_at < visit.visited_at,
            Visit.lat.is_not(None),
            Visit.lon.is_not(None),
        )
        .order_by(Visit.visited_at.desc())
        .limit(RECENT_FIXES)
    ).all()
    if len(fixes) < MIN_FIXES_FOR_MEDIAN:
        return None
    return median(f.lat for f in fixes), median(f.lon for f in fixes), "visits", len(fixes)


def _far_from_home(visit: Visit, settings: dict) -> dict | None:
    if not _located(visit):
        return None
    usual = usual_position(visit)
    if usual is None:
        return None
    lat, lon, reference, fixes = usual
    distance = distance_m(visit.lat, visit.lon, lat, lon)
    if distance <= settings["flag_distance_m"]:
        return None
    return {
        "distance_m": round(distance),
        "threshold_m": settings["flag_distance_m"],
        "reference": reference,
        "fixes": fixes,
    }


def _device_time(visit: Visit, settings: dict, recorded_online: bool) -> dict | None:
    tolerance = settings["device_clock_tolerance_s"]
    if visit.device_time_suspect:
        return {"reason": "suspect"}
    if visit.received_at is None:
        return None
    ahead = (visit.visited_at - visit.received_at).total_seconds()
    if ahead > tolerance:
        return {"reason": "ahead", "seconds": round(ahead), "tolerance_s": tolerance}
    if recorded_online and -ahead > tolerance:
        return {"reason": "behind", "seconds": round(-ahead), "tolerance_s": tolerance}
    return None


def _implausible_speed(visit: Visit, settings: dict) -> tuple[Visit, dict] | None:
    """The fastest trip between this visit and another of the same cadre close in time."""
    if not _located(visit):
        return None
    window = timedelta(minutes=settings["flag_speed_window_min"])
    others = db.session.scalars(
        select(Visit).where(
            Visit.cadre_id == visit.cadre_id,
            Visit.visited_at >= visit.visited_at - window,
            Visit.visited_at <= visit.visited_at + window,
            Visit.id != visit.id,
            Visit.household_id != visit.household_id,
            Visit.lat.is_not(None),
            Visit.lon.is_not(None),
        )
    ).all()
    worst = None
    for other in others:
        distance = distance_m(visit.lat, visit.lon, other.lat, other.lon)
        if distance < settings["flag_speed_min_distance_m"]:
            continue
        hours = max(abs((visit.visited_at - other.visited_at).total_seconds()), 1) / 3600
        speed = distance / 1000 / hours
        if speed > settings["flag_speed_kmh"] and (worst is None or speed > worst[1]["speed_kmh"]):
            worst = (other, _speed_detail(other, distance, hours, speed, settings))
    return worst


def _speed_detail(other: Visit, distance, hours, speed, settings) -> dict:
    return {
        "other_visit_id": other.id,
        "other_household_id": other.household_id,
        "distance_m": round(distance),
        "minutes": round(hours * 60, 1),
        "speed_kmh": round(speed),
        "max_kmh": settings["flag_speed_kmh"],
    }


def raise_flag(visit_id: int, kind: str, detail: dict) -> None:
    """Once per visit and kind: a flag already there (checked or not) stays as it is."""
    db.session.execute(
        insert(VisitFlag)
        .values(visit_id=visit_id, kind=kind, detail=detail)
        .on_conflict_do_nothing(index_elements=[VisitFlag.visit_id, VisitFlag.kind])
    )


def visit_settings(visit: Visit) -> dict:
    return for_town(visit.household.village.town)


def flag_visit(visit: Visit, recorded_online: bool = False) -> list[str]:
    """Check a stored visit and store a flag per reason found; returns the kinds raised.

    `recorded_online`: the phone saved the visit while connected, so its time should match
    the server's receipt; an offline visit legitimately arrives later."""
    if visit.id is None or visit.received_at is None:
        db.session.flush()
    settings = visit_settings(visit)
    found = {}
    for kind, rule in (
        ("no_location", _no_location),
        ("bad_accuracy", _bad_accuracy),
        ("far_from_home", _far_from_home),
    ):
        detail = rule(visit, settings)
        if detail is not None:
            found[kind] = detail
    clock = _device_time(visit, settings, recorded_online)
    if clock is not None:
        found["device_time"] = clock
    trip = _implausible_speed(visit, settings)
    if trip is not None:
        other, detail = trip
        found["implausible_speed"] = detail
        raise_flag(other.id, "implausible_speed", _speed_detail_back(visit, detail))
    for kind, detail in found.items():
        raise_flag(visit.id, kind, detail)
    for photo in visit.photos:
        if flag_photo(photo):
            found["duplicate_photo"] = {}
    return sorted(found)


def _speed_detail_back(visit: Visit, detail: dict) -> dict:
    return detail | {"other_visit_id": visit.id, "other_household_id": visit.household_id}


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
