"""Household self-report: door-card links, the public page behind the QR code, and reports
that become tasks for cadres and supervisors.

The functions below are the seams other features call: household creation and imports
(ensure_token), the sync pull and push (open_reports_for_households, link_visit_to_report),
and the supervisors' coverage pages (needs_action_reports).
"""

from .reports import (
    link_visit_to_report,
    needs_action_reports,
    open_reports_for_households,
    reports_answered,
)
from .tokens import ensure_token

__all__ = [
    "ensure_token",
    "link_visit_to_report",
    "needs_action_reports",
    "open_reports_for_households",
    "reports_answered",
]
