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

from .errors import ApiError, error_response, json_body
from .extensions import db, login_manager
from .models import LoginFailure, User, utcnow
from .passwords import verify
from .schemas import fields
from .schemas.base import Schema
from .schemas.users import MeSchema

bp = Blueprint("auth", __name__, url_prefix="/api")

CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class LoginSchema(Schema):
    username = fields.String(required=True, validate=lambda s: 0 < len(s) <= 64)
    password = fields.String(required=True, load_only=True, validate=lambda s: len(s) <= 256)
    remember = fields.Boolean(load_default=True)


@login_manager.user_loader
def load_user(token: str):
    user_id, _, epoch = token.partition(":")
    if not user_id.isdigit() or not epoch.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_epoch != int(epoch):
        return None
    return user


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


def _recent_failures(key: str) -> int:
    since = utcnow() - timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    query = select(func.count()).where(LoginFailure.key == key, LoginFailure.at >= since)
    return db.session.scalar(query)


def _throttled(user_key: str, addr_key: str) -> bool:
    cfg = current_app.config
    return (
        _recent_failures(user_key) >= cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
        or _recent_failures(addr_key) >= cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    )


def authenticate(username: str, password: str) -> User:
    """The user these credentials name, or ApiError 401/429. Shared by the API and the form."""
    username = username.strip()
    user_key, addr_key = f"user:{username.lower()}", f"addr:{request.remote_addr}"
    if _throttled(user_key, addr_key):
        minutes = current_app.config["LOGIN_WINDOW_SECONDS"] // 60
        raise ApiError(
            429, "too_many_attempts", f"Too many failed sign-ins. Try again in {minutes} minutes."
        )
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if not verify(user.password_hash if user else None, password) or not user.enabled:
        db.session.add_all([LoginFailure(key=user_key), LoginFailure(key=addr_key)])
        db.session.commit()
        raise ApiError(401, "bad_credentials", "Wrong username or password.")
    db.session.execute(delete(LoginFailure).where(LoginFailure.key == user_key))
    db.session.commit()
    return user


def start_session(user: User, remember: bool) -> None:
    session.clear()
    login_user(user, remember=remember)
    session.permanent = True


@bp.post("/login")
def login():
    """Sign in with a username and password; sets the session cookie.
    ---
    post:
      tags: [auth]
      requestBody:
        content:
          application/json:
            schema: LoginSchema
      responses:
        200:
          content:
            application/json:
              schema: MeSchema
        401: {description: Wrong username or password}
        422: {description: Missing fields}
        429: {description: Too many failed attempts}
    """
    data = LoginSchema().load(json_body())
    user = authenticate(data["username"], data["password"])
    start_session(user, data["remember"])
    return me_payload(user)


@bp.post("/logout")
@login_required
def logout():
    """Sign out and end the session.
    ---
    post:
      tags: [auth]
      responses:
        204: {description: Signed out}
    """
    session.clear()
    logout_user()  # after clear: it leaves the flag that deletes the remember-me cookie
    return "", 204


@bp.get("/me")
@login_required
def me():
    """Who is signed in, their role and scope, and the CSRF token for state-changing calls.
    ---
    get:
      tags: [auth]
      responses:
        200:
          content:
            application/json:
              schema: MeSchema
        401: {description: Not signed in}
    """
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


def safe_next(target: str | None) -> str:
    """Only a path on this site, so the form cannot be used to send people elsewhere."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("coverage.overview")


@pages_bp.route("/login", methods=["GET", "POST"])
def login_form():
    error = None
    if request.method == "POST":
        check_form_csrf()
        try:
            user = authenticate(
                request.form.get("username", "")[:64], request.form.get("password", "")[:256]
            )
        except ApiError as failure:
            error = failure.error
        else:
            start_session(user, remember=bool(request.form.get("remember")))
            csrf_token()
            return redirect(safe_next(request.form.get("next")))
    status = {"too_many_attempts": 429, "bad_credentials": 401}.get(error, 200)
    page = render_template("login.html", error=error, next=request.values.get("next", ""))
    return page, status


@pages_bp.post("/logout")
def logout_form():
    check_form_csrf()
    session.clear()
    logout_user()
    return redirect(url_for("signin.login_form"))


def me_payload(user: User) -> dict:
    return MeSchema().dump({"user": user, "csrf_token": csrf_token()})


def register(app):
    app.before_request(check_csrf)
    app.register_blueprint(bp)
    app.register_blueprint(pages_bp)
    app.jinja_env.globals["csrf_token"] = csrf_token
