"""Pages served from the site root: the cadres' app shell, and the language choice."""

from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    has_request_context,
    redirect,
    request,
    send_from_directory,
)

bp = Blueprint("pages", __name__)

ROOT = Path(__file__).resolve().parent.parent
PWA_DIR = ROOT / "pwa"
STATIC_DIR = ROOT / "static"


def select_locale() -> str:
    """The cookie's language, else the browser's, else the default (always outside requests)."""
    config = current_app.config
    if not has_request_context():
        return config["BABEL_DEFAULT_LOCALE"]
    chosen = request.cookies.get("lang")
    if chosen in config["LANGUAGES"]:
        return chosen
    return request.accept_languages.best_match(config["LANGUAGES"], config["BABEL_DEFAULT_LOCALE"])


@bp.get("/")
def index():
    return send_from_directory(PWA_DIR, "index.html", max_age=0)


@bp.get("/pwa/<path:filename>")
def pwa_file(filename: str):
    return send_from_directory(PWA_DIR, filename, max_age=0)


@bp.get("/static/<path:filename>")
def static_file(filename: str):
    return send_from_directory(STATIC_DIR, filename, max_age=3600)


@bp.get("/lang/<code>")
def set_language(code: str):
    response = redirect(request.referrer or "/")
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax")
    return response
