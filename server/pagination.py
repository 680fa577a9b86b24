"""Keyset pagination: opaque cursors, and the one decoder that reads them all.

A cursor is base64 of "kind:value:value". Values are ids, change sequence numbers or UTC
moments (compact ISO 8601, no colons); the decoder refuses anything else with a 400, so a
forged cursor never reaches a query: no id beyond its column, no date-time without offset.
"""

import base64
import binascii
from datetime import UTC, datetime

from flask import current_app

from .errors import ApiError, Coded
from .params import ASCII_INTEGER, INT64_MAX, ROW_ID_MAX

_MOMENT = "%Y%m%dT%H%M%S.%fZ"


class BadCursor(ValueError):
    def __init__(self, message: str = "Not valid.", code: str = "invalid"):
        super().__init__(message)
        self.message, self.code = message, code


def _integer(text: str, high: int) -> int:
    if not ASCII_INTEGER.fullmatch(text) or len(text) > 19 or not 0 <= int(text) <= high:
        raise BadCursor()
    return int(text)


def row_id(text: str) -> int:
    return _integer(text, ROW_ID_MAX)


def sequence(text: str) -> int:
    return _integer(text, INT64_MAX)


def moment(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise BadCursor() from None
    if value.tzinfo is None:
        raise BadCursor("The time has no offset.", "bad_date")
    return value


def _text(value) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("A cursor's moment needs its offset.")
        return value.astimezone(UTC).strftime(_MOMENT)
    return str(int(value))


def pack(kind: str, *values) -> str:
    raw = ":".join([kind, *(_text(v) for v in values)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def unpack(cursor: str | None, kind: str, *readers, optional: int = 0, field: str = "cursor"):
    """The cursor's values, read by `readers` (the last `optional` ones may be absent: None);
    None for no cursor; a 400 naming `field` for anything else."""
    if not cursor:
        return None
    try:
        if len(cursor) > 200:
            raise BadCursor()
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        name, *parts = raw.split(":")
        if name != kind or not len(readers) - optional <= len(parts) <= len(readers):
            raise BadCursor()
        values = [read(part) for read, part in zip(readers, parts, strict=False)]
    except (BadCursor, binascii.Error, UnicodeDecodeError, ValueError) as problem:
        bad = problem if isinstance(problem, BadCursor) else BadCursor()
        message = Coded(bad.message, bad.code)
        raise ApiError(400, "bad_cursor", "The cursor is not valid.", {field: [message]}) from None
    return tuple(values + [None] * (len(readers) - len(values)))


def encode(last_id: int) -> str:
    return pack("id", last_id)


def decode(cursor: str | None) -> int | None:
    """The last id seen, from a cursor made by encode()."""
    values = unpack(cursor, "id", row_id)
    return None if values is None else values[0]


def page_size(requested: int | None) -> int:
    cfg = current_app.config
    return min(requested or cfg["PAGE_SIZE_DEFAULT"], cfg["PAGE_SIZE_MAX"])


def page(rows: list, limit: int) -> dict:
    """rows holds up to limit + 1 items; the extra one only tells that there is more."""
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": encode(rows[-1].id) if more and rows else None}
