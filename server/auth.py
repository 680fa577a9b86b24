"""Signing in and out, the current user, CSRF for the API, and sign-in throttling."""

import hmac
import secrets
from datetime import timedelta
from functools import wraps

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import delete, func, select

from . import login_throttle
from .apidoc import documented
from .errors import ApiError, error_response, json_body
from .extensions import db, login_manager
from .models import User, UserSession, utcnow
from .passwords import verify
from .schemas import fields
from .schemas.base import Schema
from .schemas.users import MeSchema
from .security import safe_next

bp = Blueprint("auth", __name__, url_prefix="/api")

CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class LoginSchema(Schema):
    username = fields.String(required=True, validate=lambda s: 0 < len(s) <= 64)
    password = fields.String(required=True, load_only=True, validate=lambda s: len(s) <= 256)
    remember = fields.Boolean(load_default=True)


@login_manager.user_loader
def load_user(token: str):
    """The user a cookie names, if its sign-in is still open and its epoch current."""
    parts = token.split(":")
    if len(parts) != 3 or not all(_small_number(part) for part in parts[:2]):
        return None
    user_id, epoch, session_id = int(parts[0]), int(parts[1]), parts[2]
    if not (0 < len(session_id) <= 64 and session_id.isascii()):
        return None
    signed_in = db.session.get(UserSession, session_id)
    if signed_in is None or signed_in.user_id != user_id:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_epoch != epoch:
        return None
    user.session_id = session_id
    return user


def _small_number(text: str) -> bool:
    return 0 < len(text) <= 18 and text.isascii() and text.isdigit()


@login_manager.unauthorized_handler
def unauthorized():
    return error_response(401, "unauthorized", "Sign in first.")


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def tokens_match(sent: str) -> bool:
    """The sent token equals the session's; an empty one never matches (no session yet)."""
    expected = session.get("csrf", "")
    return bool(sent and expected) and hmac.compare_digest(sent, expected)


def check_csrf():
    """State-changing API calls must echo the session's token in a header."""
    if request.method in SAFE_METHODS or not request.path.startswith("/api/"):
        return None
    if request.endpoint == "auth.login":
        return None  # no session yet; JSON-only body makes a cross-site form post impossible
    sent = request.headers.get(CSRF_HEADER, "")
    if not current_user.is_authenticated:
        return None  # the view's login_required answers 401
    if not tokens_match(sent):
        return error_response(403, "csrf_failed", f"Missing or wrong {CSRF_HEADER} header.")
    return None


def authenticate(username: str, password: str) -> User:
    """The user these credentials name, or ApiError 401/429. Shared by the API and the form."""
    username = username.strip()
    wait = login_throttle.wait_seconds(username)
    if wait:
        raise ApiError(
            429,
            "too_many_attempts",
            f"Too many failed sign-ins from here. Try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if not verify(user.password_hash if user else None, password) or not user.enabled:
        login_throttle.record_failure(username)
        raise ApiError(401, "bad_credentials", "Wrong username or password.")
    login_throttle.record_success(username)
    return user


def start_session(user: User, remember: bool) -> None:
    """A new server-side sign-in, named by both cookies (see User.get_id)."""
    session.clear()
    _drop_expired_sessions()
    user.session_id = secrets.token_urlsafe(32)
    db.session.add(UserSession(id=user.session_id, user_id=user.id))
    db.session.commit()
    login_user(user, remember=remember)
    session.permanent = True


def end_session() -> None:
    """Sign-out: the sign-in is deleted, so a copy of either cookie no longer works."""
    if current_user.is_authenticated and current_user.session_id:
        db.session.execute(delete(UserSession).where(UserSession.id == current_user.session_id))
        db.session.commit()
    session.clear()
    logout_user()  # after clear: it leaves the flag that deletes the remember-me cookie


def _drop_expired_sessions() -> None:
    """Sign-ins older than both cookies' lifetimes can never be used again."""
    cfg = current_app.config
    remember = cfg.get("REMEMBER_COOKIE_DURATION", timedelta(days=365))
    if not isinstance(remember, timedelta):
        remember = timedelta(seconds=remember)
    lifetime = max(remember, current_app.permanent_session_lifetime)
    db.session.execute(delete(UserSession).where(UserSession.created_at < utcnow() - lifetime))


@bp.post("/login")
@documented(
    "auth",
    {200: MeSchema},
    body=LoginSchema,
    errors={401: "Wrong username or password", 429: None},
    public=True,
)
def login():
    """Sign in with a username and password; sets the session cookie."""
    data = LoginSchema().load(json_body())
    user = authenticate(data["username"], data["password"])
    start_session(user, data["remember"])
    return me_payload(user)


@bp.post("/logout")
@login_required
@documented("auth", {204: "Signed out; the session and the remember cookie stop working"})
def logout():
    """Sign out and end the session."""
    end_session()
    return "", 204


@bp.get("/me")
@login_required
@documented("auth", {200: MeSchema})
def me():
    """Who is signed in, their role and scope, and the CSRF token for state-changing calls."""
    return me_payload(current_user)


# --- the server-rendered sign-in form, for the supervisor pages -----------------------------

pages_bp = Blueprint("signin", __name__)


def check_form_csrf() -> None:
    """Forms post the session's token in a hidden field (pages outside /api/)."""
    sent = request.form.get("csrf_token", "")
    if not tokens_match(sent):
        abort(400, "Missing or wrong form token.")


def page_login_required(view):
    """Like flask-login's login_required, but sends a person to the sign-in form."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("signin.login_form", next=request.full_path))
        return view(*args, **kwargs)

    return wrapper


@pages_bp.route("/login", methods=["GET", "POST"])
def login_form():
    error, headers = None, {}
    if request.method == "POST":
        check_form_csrf()
        try:
            user = authenticate(
                request.form.get("username", "")[:64], request.form.get("password", "")[:256]
            )
        except ApiError as failure:
            error, headers = failure.error, failure.headers
        else:
            start_session(user, remember=bool(request.form.get("remember")))
            csrf_token()
            # Office accounts land on the office site, a cadre on the app at the site root.
            home = None if user.role in ("admin", "supervisor") else "/"
            return redirect(safe_next(request.form.get("next"), fallback=home))
    status = {"too_many_attempts": 429, "bad_credentials": 401}.get(error, 200)
    page = render_template("login.html", error=error, next=request.values.get("next", ""))
    return page, status, headers


@pages_bp.post("/logout")
def logout_form():
    check_form_csrf()
    end_session()
    return redirect(url_for("signin.login_form"))


def me_payload(user: User) -> dict:
    return MeSchema().dump({"user": user, "csrf_token": csrf_token()})


def register(app):
    app.before_request(check_csrf)
    app.register_blueprint(bp)
    app.register_blueprint(pages_bp)
    app.jinja_env.globals["csrf_token"] = csrf_token
