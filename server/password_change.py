"""A person changing their own password, and holding whoever signed in with a one-time
password to that change: until it is done, the API answers 403 `password_change_required`
(the phone shows its change form) and pages send them to the change form."""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from . import accounts
from .apidoc import documented
from .auth import check_form_csrf, me_payload, page_login_required, safe_next, start_session
from .errors import ApiError, error_response, json_body
from .extensions import db
from .schemas.users import MeSchema

bp = Blueprint("password", __name__)

# Read by hand (three strings), so that each refusal names the field accounts.py refused.
PASSWORD_CHANGE = {
    "type": "object",
    "required": ["current_password", "new_password", "repeated_password"],
    "properties": {
        "current_password": {"type": "string"},
        "new_password": {"type": "string"},
        "repeated_password": {
            "type": "string",
            "description": "must equal new_password",
        },
    },
}

# What a person holding a one-time password may still reach.
OPEN_ENDPOINTS = {
    "auth.login",
    "auth.logout",
    "auth.me",
    "signin.login_form",
    "signin.logout_form",
    "password.change",
    "password.change_form",
}
_OPEN_BLUEPRINTS = {"pages", "selfreport_public", "openapi"}


def hold_to_password_change():
    if not current_user.is_authenticated or not current_user.must_change_password:
        return None
    endpoint = request.endpoint or ""
    if endpoint in OPEN_ENDPOINTS or request.blueprint in _OPEN_BLUEPRINTS:
        return None
    if request.path.startswith("/api/"):
        return error_response(
            403, "password_change_required", "Change the one-time password first."
        )
    return redirect(url_for("password.change_form", next=request.full_path))


def _change(current: str, new: str, repeated: str) -> None:
    """Changes the password and starts this session again (the others end)."""
    accounts.change_own_password(current_user, current, new, repeated)
    user = current_user._get_current_object()
    db.session.commit()
    start_session(user, remember=True)


@bp.post("/api/password")
@login_required
@documented(
    "auth",
    {200: ("Changed; the answer is /api/me's, with a new CSRF token", MeSchema)},
    body=PASSWORD_CHANGE,
    errors={422: "Wrong current password, a new one not accepted, or the two new ones differ"},
)
def change():
    """Change one's own password (required after a one-time password)."""
    data = json_body()
    values = [data.get(k) for k in ("current_password", "new_password", "repeated_password")]
    if not all(isinstance(v, str) for v in values):
        raise ApiError(422, "validation_failed", "Some fields are not valid.", _missing(data))
    try:
        _change(*values)
    except accounts.AccountError as error:
        field = {"current": "current_password", "repeated": "repeated_password"}.get(
            error.field, "new_password"
        )
        message = str(error.message)
        raise ApiError(422, "validation_failed", message, {field: [message]}) from None
    return me_payload(current_user)


def _missing(data: dict) -> dict:
    names = ("current_password", "new_password", "repeated_password")
    return {k: ["A text value is required."] for k in names if not isinstance(data.get(k), str)}


@bp.route("/password", methods=["GET", "POST"])
@page_login_required
def change_form():
    error = None
    if request.method == "POST":
        check_form_csrf()
        form = request.form
        try:
            _change(form.get("current", ""), form.get("new", ""), form.get("repeated", ""))
        except accounts.AccountError as failure:
            error = failure.message
        else:
            return redirect(safe_next(request.form.get("next")))
    page = render_template(
        "password.html",
        error=error,
        forced=current_user.must_change_password,
        next=request.values.get("next", ""),
    )
    return page, 422 if error else 200


def register(app) -> None:
    app.before_request(hold_to_password_change)
    app.register_blueprint(bp)
