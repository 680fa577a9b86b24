"""The code lists the server and the cadres' phone share, in one place.

The server validates with them, the demo town and the exports draw from them, and the phone
imports them as `codes.js`, an ES module rendered from these lists when the app starts (part
of the app shell, so it works offline and a changed list means a new shell version).
"""

import json

from .errors import FIELD_CODES
from .models import CROPS, KLASSES, MEASURE_KINDS

# The aspects a visit asks about, and how each changed since the last visit.
SITUATION_KEYS = ("health", "income", "housing", "schooling")
TRENDS = ("same", "better", "worse")
# A sudden event the visit found (null: none).
SUDDEN_EVENTS = ("illness", "disaster", "accident", "other")
# Photos one visit may carry.
PHOTOS_PER_VISIT = 20


def phone_codes(photo_max_bytes: int) -> dict:
    """What the phone needs to know from the server before it can send anything."""
    return {
        "KLASSES": list(KLASSES),
        "SITUATION": list(SITUATION_KEYS),
        "TRENDS": list(TRENDS),
        "EVENTS": list(SUDDEN_EVENTS),
        "CROPS": list(CROPS),
        "MEASURES": list(MEASURE_KINDS),
        # Why a field was refused: the phone says each in its own words.
        "FIELD_CODES": list(FIELD_CODES),
        # Photos past these are refused when picked: the server would refuse the visit or
        # the upload, and the visit could never be sent.
        "PHOTOS_PER_VISIT": PHOTOS_PER_VISIT,
        "PHOTO_MAX_BYTES": photo_max_bytes,
    }


def codes_module(photo_max_bytes: int) -> bytes:
    lines = ["// Rendered by the server from server/codes.py at start; do not edit.", ""]
    for name, value in phone_codes(photo_max_bytes).items():
        lines.append(f"export const {name} = {json.dumps(value, ensure_ascii=False)};")
    return ("\n".join(lines) + "\n").encode()
