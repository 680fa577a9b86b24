"""The office pages used to live under /coverage/ and /supervise/; their old addresses
(bookmarks, printed instructions, links in old messages) lead to the same page under /office/.
Every old path maps onto the same path under /office/, query string kept; a form sent to an
old address is passed on with 308 so its method and body survive."""

from flask import Blueprint, redirect, request

OLD_PREFIXES = ("coverage", "supervise")

bp = Blueprint("office_redirects", __name__)


def _moved(rest: str = ""):
    target = "/office/" + rest
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(target, 301 if request.method in ("GET", "HEAD") else 308)


for _prefix in OLD_PREFIXES:
    bp.add_url_rule(f"/{_prefix}/", f"{_prefix}_root", _moved, methods=["GET", "POST"])
    bp.add_url_rule(f"/{_prefix}/<path:rest>", f"{_prefix}_path", _moved, methods=["GET", "POST"])
