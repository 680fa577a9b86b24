"""Pages served from the site root: the cadres' app shell, and the language choice."""

from pathlib import Path

from flask import Blueprint, current_app, redirect, request, send_from_directory

bp = Blueprint("pages", __name__)

ROOT = Path(__file__).resolve().parent.parent
PWA_DIR = ROOT / "pwa"
STATIC_DIR = ROOT / "static"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = request.cookies.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(
        languages, current_app.config["BABEL_DEFAULT_LOCALE"]
    )


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
