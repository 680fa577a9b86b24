"""What every office page shares: the blueprint, the access check, the navigation."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import Blueprint, current_app, redirect, request, url_for
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


# The navigation, in order. Page modules append their entries; entries whose endpoint is
# not registered (a feature not built yet) are left out when the page is drawn.
NAV: list[NavEntry] = []


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
