"""What every office page shares: the blueprint, the access check, the navigation."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import Blueprint, current_app, redirect, request, url_for
from flask_babel import lazy_gettext as _
from flask_login import current_user

from .. import access

bp = Blueprint("office", __name__, url_prefix="/office")

OFFICE_ROLES = ("admin", "supervisor")


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: object  # a lazy string, translated when the page is drawn
    roles: tuple[str, ...] = OFFICE_ROLES
    # A finer test than the role, e.g. town supervisors but not village committees.
    allowed: Callable[[object], bool] | None = None


# The navigation, in order: the daily pages first, then the registry's and the accounts'
# tools. One list, so the order does not hang on import order; an entry whose endpoint is
# not registered is left out when the page is drawn.
NAV: list[NavEntry] = [
    NavEntry("office.overview", _("Overview")),
    NavEntry("office.households", _("Registry")),
    NavEntry("office.cadres", _("Cadres responsible")),
    NavEntry("office.overdue", _("Overdue")),
    NavEntry("office.needs_action", _("Needs action")),
    NavEntry("office.flags", _("Flags")),
    NavEntry("office.conflicts", _("Conflicts")),
    NavEntry("office.reports_page", _("Self-reports")),
    NavEntry("office.cards_index", _("Door cards")),
    NavEntry("office.imports", _("Import")),
    NavEntry("office.accounts", _("Accounts"), allowed=access.can_manage_accounts),
    NavEntry("office.audit_log", _("Log")),
]


def office_page(view):
    """Town supervisors, village committees and admins; a cadre gets 403, someone signed
    out the sign-in form. The one access check of every office page: what a page shows
    is then narrowed by server/access.py."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("signin.login_form", next=request.full_path))
        access.require(current_user.role in OFFICE_ROLES)
        return view(*args, **kwargs)

    return wrapper


@bp.after_request
def _no_store(response):
    """These pages hold names, ID and phone numbers: no copy in any cache."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def nav_entries() -> list[NavEntry]:
    if not current_user.is_authenticated:
        return []
    known = current_app.view_functions
    return [
        e
        for e in NAV
        if e.endpoint in known
        and current_user.role in e.roles
        and (e.allowed is None or e.allowed(current_user))
    ]


@bp.app_context_processor
def _office_context():
    return {"office_nav": nav_entries}
