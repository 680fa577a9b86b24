"""Pages served from the site root: the cadres' app shell, and the language choice.

The service worker only controls the path it is served from, so the shell lives at `/`,
`/sw.js` and `/manifest.webmanifest`. At start the server hashes every file under `pwa/` and
`static/`; that hash is the service worker's cache version, so any changed file means a new
cache and nobody bumps a version by hand.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    has_request_context,
    redirect,
    request,
    send_from_directory,
)

from .security import safe_next

bp = Blueprint("pages", __name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
# Files under pwa/ served at their own URL rather than under /pwa/.
ROOT_FILES = {"index.html", "sw.js", "manifest.webmanifest"}
# What of static/ the cadres' app needs offline (the rest serves the online pages).
SHELL_STATIC = ("css/app.css", "icons/icon-192.png", "icons/icon-512.png")
VERSION_MARK = "__APP_VERSION__"
SHELL_MARK = "[/*__APP_SHELL__*/]"
# The shell runs no inline code and talks only to its own origin.
SHELL_CSP = (
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class Shell:
    root: Path
    version: str
    urls: tuple[str, ...]  # what the service worker precaches
    index_html: bytes
    service_worker: bytes

    @property
    def pwa_dir(self) -> Path:
        return self.root / "pwa"

    @property
    def static_dir(self) -> Path:
        return self.root / "static"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def content_hash(root: Path) -> str:
    """A digest of every file's path and bytes under pwa/ and static/."""
    digest = hashlib.sha256()
    for folder in (root / "pwa", root / "static"):
        for path in _files(folder):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def shell_urls(root: Path) -> tuple[str, ...]:
    modules = [
        "/pwa/" + p.relative_to(root / "pwa").as_posix()
        for p in _files(root / "pwa")
        if p.relative_to(root / "pwa").as_posix() not in ROOT_FILES
    ]
    return ("/", "/manifest.webmanifest", *modules, *(f"/static/{n}" for n in SHELL_STATIC))


def build_shell(root: Path) -> Shell:
    version = content_hash(root)
    urls = shell_urls(root)
    index = (root / "pwa" / "index.html").read_text(encoding="utf-8")
    worker = (root / "pwa" / "sw.js").read_text(encoding="utf-8")
    if SHELL_MARK not in worker or VERSION_MARK not in worker:
        raise RuntimeError("pwa/sw.js lost its version or shell placeholder")
    worker = worker.replace(SHELL_MARK, json.dumps(list(urls))).replace(VERSION_MARK, version)
    return Shell(
        root=root,
        version=version,
        urls=urls,
        index_html=index.replace(VERSION_MARK, version).encode(),
        service_worker=worker.encode(),
    )


@bp.record_once
def _load_shell(state) -> None:
    """Once per app, at start: later edits to the files need a restart (a deploy) to show."""
    root = Path(state.app.config.get("APP_SHELL_DIR") or REPO_ROOT)
    state.app.extensions["app_shell"] = build_shell(root)


def shell() -> Shell:
    return current_app.extensions["app_shell"]


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
    response = Response(shell().index_html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Security-Policy"] = SHELL_CSP
    return response


@bp.get("/sw.js")
def service_worker():
    response = Response(shell().service_worker, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    return send_from_directory(
        shell().pwa_dir, "manifest.webmanifest", mimetype="application/manifest+json", max_age=0
    )


@bp.get("/pwa/<path:filename>")
def pwa_file(filename: str):
    if filename in ROOT_FILES:
        abort(404)  # only served from the root, with the version filled in
    return send_from_directory(shell().pwa_dir, filename, max_age=0)


@bp.get("/static/<path:filename>")
def static_file(filename: str):
    return send_from_directory(shell().static_dir, filename, max_age=3600)


@bp.get("/lang/<code>")
def set_language(code: str):
    response = redirect(safe_next(request.referrer, "/"))
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax")
    return response
