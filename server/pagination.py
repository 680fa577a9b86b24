"""Keyset pagination: an opaque cursor holding the last id seen."""

import base64

from flask import current_app

from .errors import ApiError


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = raw.partition(":")
        if kind == "id" and value.isdigit():
            return int(value)
    except (ValueError, UnicodeDecodeError):
        pass
    raise ApiError(400, "bad_cursor", "The cursor is not valid.", {"cursor": ["Not valid."]})


def page_size(requested: int | None) -> int:
    cfg = current_app.config
    return min(requested or cfg["PAGE_SIZE_DEFAULT"], cfg["PAGE_SIZE_MAX"])


def page(rows: list, limit: int) -> dict:
    """rows holds up to limit + 1 items; the extra one only tells that there is more."""
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": encode(rows[-1].id) if more and rows else None}
