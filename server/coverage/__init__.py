"""Supervisor coverage: who was visited, who is overdue, which visits look wrong, and what
needs action. Domain code with no pages (the pages are in server/office/); the rules are in
docs/coverage.md.

For the sync code: call `record_visits(stored)` in the transaction that stores a batch of
visits, then `flag_visits(stored)` (one visit stored through the ORM:
`record_visit_aggregates(household, visit)`, then `flag_visit(visit)`); call
`flag_photo(photo)` when a photo is stored.
"""

from .aggregates import household_changed, record_visit_aggregates, record_visits
from .flags import flag_photo, flag_visit, flag_visits
from .stored import StoredVisit

__all__ = [
    "StoredVisit",
    "flag_photo",
    "flag_visit",
    "flag_visits",
    "household_changed",
    "record_visit_aggregates",
    "record_visits",
]
