"""Per-town settings with defaults: visit rhythm by class, flag thresholds.

Stored as JSON on the town row, so an admin can change them without a migration; a key
missing from the row falls back to the default here.
"""

from copy import deepcopy

from .models import Town

DEFAULTS = {
    # Days between visits by class: C and D monthly, B every two months, A every quarter.
    "rhythm_days": {"A": 90, "B": 60, "C": 30, "D": 30},
    # A visit located further than this from the household's usual position is flagged.
    "flag_distance_m": 500,
    # A device clock further than this from the server's is flagged, not trusted.
    "device_clock_tolerance_s": 10 * 60,
    # A location whose accuracy is above this (or zero or below) is flagged as implausible.
    "flag_accuracy_max_m": 1000,
    # One cadre's visits this close in time, this far apart, faster than this, are flagged.
    "flag_speed_window_min": 120,
    "flag_speed_min_distance_m": 1000,
    "flag_speed_kmh": 60,
    # Working days a family's self-report may wait for a verification visit (自主申报 response).
    "report_response_days": {"normal": 5, "urgent": 1},
    # Days the town office marks itself, as ISO dates: they win over the State Council schedule.
    "extra_holidays": [],
    "extra_workdays": [],
}


def for_town(town: Town | None) -> dict:
    merged = deepcopy(DEFAULTS)
    stored = (town.settings if town is not None else None) or {}
    for key, value in stored.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key].update(value)
        else:
            merged[key] = value
    return merged
