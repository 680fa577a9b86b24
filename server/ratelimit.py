"""A fixed-window rate limiter kept in the database, so every gunicorn worker shares it and it
works the same on SQLite and PostgreSQL."""

import hashlib
import time

from flask import current_app
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import RateCounter


def hashed_key(kind: str, value: str) -> str:
    """Keys never hold a raw address or token: a keyed hash is enough to count by."""
    secret = current_app.secret_key.encode() if current_app.secret_key else b""
    digest = hashlib.sha256(secret + b"\0" + value.encode()).hexdigest()[:40]
    return f"{kind}:{digest}"


def _window_start(window_seconds: int, now: float) -> int:
    return int(now // window_seconds) * window_seconds


def _bump(key: str, start: int) -> int | None:
    """Add one to an existing counter; None when the window has no row yet."""
    return db.session.scalar(
        update(RateCounter)
        .where(RateCounter.key == key, RateCounter.window_start == start)
        .values(count=RateCounter.count + 1)
        .returning(RateCounter.count)
    )


def hit(key: str, limit: int, window_seconds: int) -> int:
    """Count one request for `key`; returns the seconds to wait when over `limit`, else 0.

    Commits on its own, so a request that fails later is still counted.
    """
    now = time.time()
    start = _window_start(window_seconds, now)
    count = _bump(key, start)
    if count is None:
        try:
            with db.session.begin_nested():
                expires = start + 2 * window_seconds
                counter = RateCounter(key=key, window_start=start, count=1, expires_at=expires)
                db.session.add(counter)
            count = 1
            # A new window: a good moment to drop the counters of finished ones.
            db.session.execute(delete(RateCounter).where(RateCounter.expires_at < int(now)))
        except IntegrityError:  # another worker made the row first
            count = _bump(key, start)
    db.session.commit()
    if count > limit:
        return max(1, start + window_seconds - int(now))
    return 0
