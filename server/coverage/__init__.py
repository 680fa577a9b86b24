"""Supervisor coverage: who was visited, who is overdue, which visits look wrong, and what
needs action. Online pages for supervisors and admins; the rules are in docs/coverage.md.

For the sync code: call `record_visits(stored)` in the transaction that stores a batch of
visits, then `flag_visits(stored)` (one visit stored through the ORM:
`record_visit_aggregates(household, visit)`, then `flag_visit(visit)`); call
`flag_photo(photo)` when a photo is stored.
"""

from . import conflicts, exports, measure_forms, review, town_settings, views  # noqa: F401 (their pages join bp)
from .aggregates import household_changed, record_visit_aggregates, record_visits
from .flags import flag_photo, flag_visit, flag_visits
from .stored import StoredVisit
from .web import bp

__all__ = [
    "StoredVisit",
    "bp",
    "flag_photo",
    "flag_visit",
    "flag_visits",
    "household_changed",
    "record_visit_aggregates",
    "record_visits",
]
