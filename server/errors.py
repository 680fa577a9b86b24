"""One JSON error shape for the whole API: {"error", "message", "fields"}."""

from flask import Flask, jsonify, request
from flask_babel import gettext
from marshmallow import ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.exceptions import HTTPException

from .extensions import db


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status, self.error, self.message, self.fields = status, error, message, fields


def error_response(status: int, error: str, message: str, fields: dict | None = None):
    body = {"error": error, "message": message}
    if fields:
        body["fields"] = fields
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
        return error_response(exc.status, exc.error, exc.message, exc.fields)

    @app.errorhandler(ValidationError)
    def validation_error(exc: ValidationError):
        db.session.rollback()
        fields = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return error_response(422, "validation_failed", "Some fields are not valid.", fields)

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
