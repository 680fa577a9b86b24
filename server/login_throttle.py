"""Failed sign-ins slow guessing down without locking anyone out (OWASP's advice).

Failures are counted per account *and* address, and per address, never per account alone:
a stranger guessing at an account from their own address only slows themselves, and the
real user, signing in from theirs, is let in. Past a free allowance each further failure
doubles the wait before the next try (a slower path, not a wall); tries made while waiting
are answered with the wait and not counted, so waiting out one delay always earns a try.
"""

from datetime import timedelta

from flask import current_app, request
from sqlalchemy import delete, func, select

from .extensions import db
from .models import LoginFailure, utcnow
from .ratelimit import hashed_key


def _pair_key(username: str) -> str:
    return hashed_key("login-pair", f"{username.strip().lower()}\0{request.remote_addr or ''}")


def _address_key() -> str:
    return hashed_key("login-addr", request.remote_addr or "")


def _keys(username: str) -> dict[str, str]:
    """The counters a try from this request counts against, with the free allowance of each."""
    return {
        _pair_key(username): "LOGIN_FREE_FAILURES_PER_PAIR",
        _address_key(): "LOGIN_FREE_FAILURES_PER_ADDRESS",
    }


def _wait_for(key: str, free: int) -> int:
    cfg = current_app.config
    now = utcnow()
    since = now - timedelta(seconds=cfg["LOGIN_WINDOW_SECONDS"])
    count, last = db.session.execute(
        select(func.count(), func.max(LoginFailure.at)).where(
            LoginFailure.key == key, LoginFailure.at >= since
        )
    ).one()
    if count < free or last is None:
        return 0
    delay = min(cfg["LOGIN_DELAY_SECONDS"] * 2 ** min(count - free, 20), cfg["LOGIN_DELAY_MAX"])
    return max(0, int(delay - (now - last).total_seconds() + 0.999))


def wait_seconds(username: str) -> int:
    """Seconds this address must wait before trying this account again (0: try now)."""
    cfg = current_app.config
    return max(_wait_for(key, cfg[free]) for key, free in _keys(username).items())


def record_failure(username: str) -> None:
    db.session.add_all(LoginFailure(key=key) for key in _keys(username))
    db.session.commit()


def record_success(username: str) -> None:
    """The right password from here clears this account's failures from this address only;
    the address's own count keeps slowing a guesser who also knows one password."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.key == _pair_key(username)))
    since = utcnow() - timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < since))
    db.session.commit()
