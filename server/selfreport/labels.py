"""Words shown for report categories, statuses and classes (translated when shown)."""

from flask_babel import lazy_gettext as _l

CATEGORY_LABELS = {
    "illness": _l("Illness or injury"),
    "disaster": _l("Disaster or accident"),
    "work": _l("Lost work or income"),
    "housing": _l("Housing problem"),
    "schooling": _l("Schooling problem"),
    "harvest": _l("Crop or harvest news"),
    "need_help": _l("Need help"),
    "other": _l("Other"),
}

STATUS_LABELS = {
    "received": _l("Received"),
    "seen": _l("Seen by the cadre"),
    "handled": _l("Acted on"),
}

PRIORITY_LABELS = {
    0: _l("Urgent"),
    1: _l("Urgent (other)"),
    2: _l("Normal"),
}
