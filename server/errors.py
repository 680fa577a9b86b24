"""One JSON error shape for the whole API: {"error", "message", "fields", "codes"}.

`fields` holds English sentences per field; `codes` mirrors it with stable codes from
FIELD_CODES, which a client can show in its own words (the phone does, in Chinese).
"""

from flask import Flask, jsonify, request
from flask_babel import gettext
from marshmallow import ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.exceptions import HTTPException, default_exceptions

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


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        db.session.rollback()
        if not _wants_json():  # a page: the plain sentence
            return default_exceptions[exc.status](exc.message)
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
        return gettext("A value is out of range."), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if not _wants_json():
            return exc
        db.session.rollback()
        name = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, name, exc.description or exc.name)
