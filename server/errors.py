"""One JSON error shape for the whole API: {"error", "message", "fields", "codes"}.

`fields` holds English sentences per field; `codes` mirrors it with stable codes from
FIELD_CODES, which a client can show in its own words (the phone does, in Chinese).
"""

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.exceptions import HTTPException

from .extensions import db

# Every code a field error can carry. Clients keep a catalogue of these; add, never rename.
FIELD_CODES = (
    "required",  # missing
    "null",  # null where a value is needed
    "invalid",  # not of the right type or form
    "too_long",  # text or list longer than allowed
    "too_short",  # text or list shorter than allowed
    "too_large",  # number or date above the maximum
    "too_small",  # number or date below the minimum
    "not_one_of",  # not among the allowed choices
    "unknown_field",  # a field the API does not know
    "bad_text",  # a NUL or lone surrogate: text no database stores
    "not_finite",  # NaN or Infinity
    "out_of_range",  # an integer beyond what its column holds
    "bad_date",  # a date-time without its offset
    "too_deep",  # JSON nested too deeply
    "duplicate",  # the same item twice in one list
    "not_found",  # names a record that is not there (or not in scope)
)


class Coded(str):
    """An error sentence that knows its code; formatting it keeps the code."""

    code: str

    def __new__(cls, text: str, code: str):
        assert code in FIELD_CODES, code
        message = super().__new__(cls, text)
        message.code = code
        return message

    def format(self, *args, **kwargs) -> "Coded":
        return Coded(str.format(self, *args, **kwargs), self.code)

    def __reduce__(self):  # a copy (of a bound schema, say) keeps the code
        return Coded, (str(self), self.code)


def field_codes(messages):
    """The codes mirroring error messages: the same nesting, a code for each sentence
    ("invalid" for one raised without a code)."""
    if isinstance(messages, dict):
        return {key: field_codes(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [field_codes(m) for m in messages]
    return getattr(messages, "code", "invalid")


def string_keys(messages):
    """JSON keys are strings: a list's errors come keyed by index, and a form part may have
    no name at all (None); mixed key types cannot even be sorted."""
    if isinstance(messages, dict):
        return {str(key): string_keys(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [string_keys(m) for m in messages]
    return messages


def validation_fields(exc: ValidationError) -> dict:
    return exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        fields: dict | None = None,
        headers: dict | None = None,  # e.g. Retry-After on a 429
    ):
        super().__init__(message)
        self.status, self.error, self.message, self.fields = status, error, message, fields
        self.headers = headers or {}


def error_response(status: int, error: str, message: str, fields: dict | None = None):
    body = {"error": error, "message": message}
    if fields:
        body["fields"] = string_keys(fields)
        body["codes"] = field_codes(body["fields"])
    return jsonify(body), status


def json_body() -> dict:
    """The request's JSON object, or a 400 that says what was expected."""
    data = request.get_json(silent=True) if request.is_json else None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "The body must be a JSON object.")
    return data


def _wants_json() -> bool:
    return request.path.startswith("/api/")


# What a page says for each refusal, unless the view gave its own (translated) sentence.
PAGE_TITLES = {
    400: _l("This request cannot be handled"),
    401: _l("Please sign in"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Not allowed"),
    409: _l("This cannot be done now"),
    413: _l("Too large"),
    429: _l("Too many attempts"),
}
PAGE_SENTENCES = {
    400: _l("Something in the request is not valid. Go back, check it and try again."),
    401: _l("Sign in to open this page."),
    403: _l("Your account cannot open this page."),
    404: _l("There is no such page, or it is outside what your account can see."),
    405: _l("This address does not take that kind of request."),
    409: _l("The record changed meanwhile. Reload the page and try again."),
    413: _l("What was sent is too large."),
    429: _l("Too many attempts. Wait a little and try again."),
}


def error_page(status: int, sentence: str | None = None, headers=None):
    """A refusal as a page in the reader's language, with a way back to where they work."""
    office = current_user.is_authenticated and current_user.role in ("admin", "supervisor")
    body = render_template(
        "error.html",
        title=PAGE_TITLES.get(status) or gettext("Something went wrong"),
        sentence=sentence
        or PAGE_SENTENCES.get(status)
        or gettext("The server could not finish this. Try again later."),
        way_on="/office/" if office else "/",
        way_on_label=gettext("Back to the overview") if office else gettext("Back to the start"),
    )
    return body, status, headers or {}


def _page_sentence(exc: HTTPException) -> str | None:
    """The view's own sentence (abort(400, gettext(...))), or None for Werkzeug's stock one."""
    custom = exc.description and exc.description != type(exc).description
    return gettext(exc.description) if custom else None


def _kept_headers(exc: HTTPException) -> dict:
    kept = ("Allow", "Retry-After", "WWW-Authenticate")
    return {k: v for k, v in exc.get_headers() if k in kept}


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        db.session.rollback()
        if not _wants_json():  # a page: the sentence in the reader's language
            return error_page(exc.status, _api_error_sentence(exc), exc.headers)
        body, status = error_response(exc.status, exc.error, exc.message, exc.fields)
        return body, status, exc.headers

    @app.errorhandler(ValidationError)
    def validation_error(exc: ValidationError):
        db.session.rollback()
        return error_response(
            422, "validation_failed", "Some fields are not valid.", validation_fields(exc)
        )

    @app.errorhandler(IntegrityError)
    def integrity_error(exc: IntegrityError):
        db.session.rollback()
        return error_response(409, "conflict", "This change conflicts with existing data.")

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def out_of_range(exc):
        """A number no column can hold (an id of 25 digits in a URL): no such row, and no
        500 (SQLite raises OverflowError, PostgreSQL DataError)."""
        db.session.rollback()
        if _wants_json():
            return error_response(400, "out_of_range", "A value is out of range.")
        return error_page(400, gettext("A value is out of range."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if not _wants_json():
            if (exc.code or 500) < 400:
                return exc
            return error_page(exc.code or 500, _page_sentence(exc), _kept_headers(exc))
        db.session.rollback()
        name = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, name, exc.description or exc.name)


def _api_error_sentence(exc: ApiError) -> str:
    """An API refusal met on a page: the catalogue's words for it, and for text no database
    can store, the field it was found in."""
    codes = field_codes(exc.fields or {})
    if isinstance(codes, dict):
        for name, code in codes.items():
            if code == ["bad_text"] or code == "bad_text":
                return gettext("“%(name)s” holds characters that cannot be stored.", name=name)
    return gettext(exc.message)
