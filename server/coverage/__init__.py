"""Supervisor coverage: who was visited, who is overdue, which visits look wrong, and what
needs action. Online pages for supervisors and admins; the rules are in docs/coverage.md.

For the sync code: call `record_visit_aggregates(household, visit)` in the transaction that
stores a visit, then `flag_visit(visit)`; call `flag_photo(photo)` when a photo is stored.
"""

from . import exports, review, town_settings, views  # noqa: F401 (their pages join bp)
from .aggregates import household_changed, record_visit_aggregates
from .flags import flag_photo, flag_visit
from .needs import needs_action_sources
from .web import bp

__all__ = [
    "bp",
    "flag_photo",
    "flag_visit",
    "household_changed",
    "needs_action_sources",
    "record_visit_aggregates",
]
