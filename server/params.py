"""Reading raw input before any view sees it: ids in paths, integers and decimals in query
strings and forms, JSON bodies, and text the databases can store.

Each reader here is the only one of its kind, so a bad input is refused the same way
everywhere: a path id out of range is a 404, anything else a 400 that names the field.
"""

import json
import re
from decimal import Decimal, InvalidOperation

from flask import Flask, abort, request
from flask.json.provider import DefaultJSONProvider
from flask.wrappers import Request
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter

from .errors import ApiError, Coded

ROW_ID_MAX = 2**31 - 1  # ids are 32-bit integers on PostgreSQL (and fit SQLite)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
JSON_MAX_DEPTH = 32  # the deepest body the API reads (a push) nests 5 levels
ASCII_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL_DIGITS = 30  # more digits than any amount the forms read


def text_problem(text: str) -> bool:
    """True when a database cannot store the text: NUL, or a lone surrogate (not UTF-8)."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class IdConverter(BaseConverter):
    """`<int:...>` in every route: ASCII digits of a row id. Anything else, or an id beyond
    the 32-bit column, is a 404 like a missing row (Werkzeug's own converter takes any
    Unicode digit and any size)."""

    regex = r"[0-9]{1,10}"
    weight = 50
    part_isolating = True

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 0 <= number <= ROW_ID_MAX:
            # Not a routing ValidationError (no match): Werkzeug would then answer 405 when the
            # same path has a route for another method (PATCH /api/households/<id> beside GET).
            raise NotFound()
        return number

    def to_url(self, value) -> str:
        return str(int(value))


class JSONProvider(DefaultJSONProvider):
    """JSON bodies: only real JSON (no NaN or Infinity) nested at most JSON_MAX_DEPTH deep."""

    def loads(self, s, **kwargs):
        kwargs.setdefault("parse_constant", _refuse_constant)
        try:
            data = json.loads(s, **kwargs)
        except RecursionError:
            data = None
            _too_deep()
        if _depth(data) > JSON_MAX_DEPTH:
            _too_deep()
        return data


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON.")


def _too_deep():
    message = Coded(f"Nested deeper than {JSON_MAX_DEPTH} levels.", "too_deep")
    raise ApiError(400, "bad_request", "The JSON body is nested too deeply.", {"_body": [message]})


def _depth(data) -> int:
    """How deep objects and arrays nest, without recursion (a deep body must not crash us)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in item)
    return deepest


class ZoufangRequest(Request):
    """A form with a NUL is refused as soon as it is read: no page can store one. (Read by the
    view, not before: a view may first set how big a body it accepts.)"""

    def _load_form_data(self) -> None:
        loaded = "form" in self.__dict__
        super()._load_form_data()
        if not loaded:
            _refuse_bad_text(self.form)


def _check_query_text() -> None:
    _refuse_bad_text(request.args)


def _refuse_bad_text(values) -> None:
    for name, value in values.items(multi=True):
        if any(isinstance(t, str) and text_problem(t) for t in (name, value)):
            message = Coded("Contains characters that cannot be stored.", "bad_text")
            raise ApiError(400, "bad_request", f"{name!r} is not valid text.", {name: [message]})


def int_arg(name: str, low: int = 0, high: int = ROW_ID_MAX) -> int | None:
    """A query argument holding an integer (most often an id): ASCII digits in range, else a
    400 naming it; None when it is absent or empty."""
    raw = request.args.get(name) or None
    if raw is None:
        return None
    if not ASCII_INTEGER.fullmatch(raw) or len(raw) > 20 or not low <= int(raw) <= high:
        abort(
            400,
            _("%(name)s must be a number from %(low)s to %(high)s.", name=name, low=low, high=high),
        )
    return int(raw)


def row_id(raw: str | None) -> int | None:
    """A row id as typed in a form, or None when it cannot be one (so a huge number is
    refused here rather than overflowing the database driver)."""
    raw = (raw or "").strip()
    if not ASCII_INTEGER.fullmatch(raw) or len(raw) > 10 or not 0 < int(raw) <= ROW_ID_MAX:
        return None
    return int(raw)


def decimal_text(text: str) -> Decimal | None:
    """A decimal as typed in a form ("1500", "1,500.50"): None for empty or anything that is
    not a finite number of reasonable size (NaN, Infinity, 1e999999)."""
    text = text.replace(",", "").strip()
    if not text or len(text) > _DECIMAL_DIGITS:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value.adjusted()) > _DECIMAL_DIGITS:
        return None
    return value


def register(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter
    app.request_class = ZoufangRequest
    app.json = JSONProvider(app)
    app.before_request(_check_query_text)
