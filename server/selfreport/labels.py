"""Words shown for report categories, statuses and classes (translated when shown)."""

# Lazy: turned into text when a page is rendered (named _ so pybabel extracts them).
from flask_babel import lazy_gettext as _

CATEGORY_LABELS = {
    "illness": _("Illness or injury"),
    "disaster": _("Disaster or accident"),
    "work": _("Lost work or income"),
    "housing": _("Housing problem"),
    "schooling": _("Schooling problem"),
    "harvest": _("Crop or harvest news"),
    "need_help": _("Need help"),
    "other": _("Other"),
}

STATUS_LABELS = {
    "received": _("Received"),
    "seen": _("Seen by the cadre"),
    "handled": _("Acted on"),
}

PRIORITY_LABELS = {
    0: _("Urgent"),
    1: _("Urgent (other)"),
    2: _("Normal"),
}
