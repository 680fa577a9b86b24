"""What every response and redirect obeys: where a redirect may go, the headers that keep
pages from being framed, sniffed or fed foreign code, and which proxies name the client."""

import re
from urllib.parse import unquote, urlsplit

from flask import Flask, request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

# Staff and public pages: only this site's own files, nothing inline, never in a frame.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
# Control characters and backslashes: browsers read "\" as "/" and drop tabs and newlines,
# which turns "/\evil.example" or "/\t/evil.example" into another site.
_UNSAFE_IN_PATH = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")


def local_path(target: str | None) -> str | None:
    """`target` if it is a path of this site (an absolute URL of this very host is reduced
    to its path), else None. Percent-encoded tricks are judged after decoding."""
    if not target or len(target) > 2048:
        return None
    if not target.startswith("/"):
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or parts.netloc != request.host:
            return None
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    decoded = target
    for _ in range(3):  # doubly encoded "%252F%252F" must not slip through either
        decoded = unquote(decoded)
        if _UNSAFE_IN_PATH.search(decoded) or decoded.startswith("//"):
            return None
        if not decoded.startswith("/"):
            return None
    return target


def safe_next(target: str | None, fallback: str | None = None) -> str:
    """Where to send a person after a form: `target` if it stays on this site, else the
    fallback (the overview unless told). Every redirect built from input goes through here."""
    return local_path(target) or fallback or url_for("office.overview")


def _headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    # setdefault: a page with a policy of its own (the PWA shell) keeps it.
    headers.setdefault("Content-Security-Policy", PAGE_CSP)
    if request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")
    return response


def _hsts(response):
    response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def trusted_proxies(app: Flask) -> int:
    raw = app.config["TRUSTED_PROXIES"]
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 10:
        raise RuntimeError("ZOUFANG_TRUSTED_PROXIES must be a whole number from 0 to 10")
    return raw


def register(app: Flask) -> None:
    app.after_request(_headers)
    if app.config["ENV"] == "production":
        app.after_request(_hsts)
    proxies = trusted_proxies(app)
    if proxies:
        # Only the last `proxies` hops of X-Forwarded-* are believed; a client's own
        # X-Forwarded-For in front of them is ignored, so it cannot pick its address.
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
