"""Sign-in for the server-rendered pages (supervisors, admins): a form, not the JSON API.

Kept small and beside auth.py: it shares its throttling and session rules.
"""

import hmac
from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import delete, func, select

from .auth import _throttled, csrf_token
from .extensions import db
from .models import LoginFailure, User
from .passwords import verify

bp = Blueprint("auth_pages", __name__)


def check_form_csrf() -> None:
    """Forms on these pages echo the session's token (SameSite=Lax cookies already stop most
    cross-site posts; this stops the rest)."""
    sent, expected = request.form.get("csrf_token", ""), session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent, expected):
        abort(400, "The form expired. Go back, reload the page and try again.")


def page_login_required(view):
    """Like flask-login's login_required, but sends a person to the sign-in page."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth_pages.login_page", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def _local_next(target: str | None) -> str:
    """Only paths on this site: never an open redirect to somewhere else."""
    parts = urlsplit(target or "")
    if target and not parts.scheme and not parts.netloc and target.startswith("/"):
        return target
    return url_for("selfreport_staff.reports_page")


@bp.get("/login")
def login_page():
    return render_template("login.html", csrf_token=csrf_token(), next=request.args.get("next"))


@bp.post("/login")
def login_submit():
    check_form_csrf()
    username = request.form.get("username", "").strip()[:64]
    password = request.form.get("password", "")[:256]
    user_key, addr_key = f"user:{username.lower()}", f"addr:{request.remote_addr}"
    if _throttled(user_key, addr_key):
        return _form_again("too_many", 429)
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if not verify(user.password_hash if user else None, password) or not user.enabled:
        db.session.add_all([LoginFailure(key=user_key), LoginFailure(key=addr_key)])
        db.session.commit()
        return _form_again("bad_credentials", 401)
    db.session.execute(delete(LoginFailure).where(LoginFailure.key == user_key))
    db.session.commit()
    session.clear()  # a new session on sign-in: nothing from before carries over
    login_user(user, remember=True)
    session.permanent = True
    return redirect(_local_next(request.form.get("next")))


def _form_again(problem: str, status: int):
    page = render_template(
        "login.html", csrf_token=csrf_token(), next=request.form.get("next"), problem=problem
    )
    return page, status


@bp.post("/logout")
def logout_submit():
    check_form_csrf()
    logout_user()
    session.clear()
    return redirect(url_for("auth_pages.login_page"))
