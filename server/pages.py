"""Pages served from the site root: the cadres' app shell, and the language choice.

The service worker only controls the path it is served from, so the shell lives at `/`,
`/sw.js` and `/manifest.webmanifest`; its modules, style sheet and icons live under
`/v/<version>/`, where version is a hash of every file of the shell. At start the server reads
those files once, renders `codes.js` from `server/codes.py`, and keeps each file in memory
as it is and gzipped: nobody bumps a version by hand, a changed file means new URLs, so the
versioned files are cached for a year and never asked for again, and the first visit costs
its bytes once (the worker's precache finds them in the HTTP cache).
"""

import gzip
import hashlib
import json
import mimetypes
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

from .codes import codes_module
from .photos import DEFAULTS as PHOTO_DEFAULTS
from .security import safe_next

bp = Blueprint("pages", __name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
# Files under pwa/ served at their own URL rather than under the versioned prefix.
ROOT_FILES = {"index.html", "sw.js", "manifest.webmanifest"}
# What of static/ the cadres' app needs offline (the rest serves the online pages).
SHELL_STATIC = ("css/app.css", "icons/icon-192.png", "icons/icon-512.png")
# The module the server renders from its own code lists (server/codes.py).
CODES_MODULE = "pwa/codes.js"
VERSION_MARK = "__APP_VERSION__"
SHELL_MARK = "[/*__APP_SHELL__*/]"
YEAR = 365 * 24 * 3600
# The shell runs no inline code and talks only to its own origin.
SHELL_CSP = (
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class Asset:
    """One file of the shell as served: its bytes, gzipped when that is smaller."""

    body: bytes
    mimetype: str
    gzipped: bytes | None
    etag: str

    @classmethod
    def of(cls, body: bytes, mimetype: str) -> "Asset":
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        return cls(
            body=body,
            mimetype=mimetype,
            gzipped=packed if len(packed) < len(body) else None,
            etag=hashlib.sha256(body).hexdigest()[:20],
        )


@dataclass(frozen=True)
class Shell:
    root: Path
    version: str
    files: dict[str, Asset]  # by path under /v/<version>/, e.g. "pwa/app.js"
    index_html: Asset
    service_worker: Asset
    manifest: Asset

    @property
    def prefix(self) -> str:
        return f"/v/{self.version}/"

    @property
    def urls(self) -> tuple[str, ...]:
        return precache_urls(self.version, self.files)


def precache_urls(version: str, paths) -> tuple[str, ...]:
    """What the service worker precaches: the page, the manifest, every versioned file."""
    return ("/", "/manifest.webmanifest", *(f"/v/{version}/{path}" for path in paths))


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def source_files(root: Path, photo_max_bytes: int) -> dict[str, bytes]:
    """Every file of the shell by its path ("pwa/app.js", "static/css/app.css"), rendered
    codes.js included, before the version is filled in."""
    found = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in _files(root / "pwa")
        if p.relative_to(root / "pwa").as_posix() not in ROOT_FILES
    }
    found[CODES_MODULE] = codes_module(photo_max_bytes)
    for name in SHELL_STATIC:
        found[f"static/{name}"] = (root / "static" / name).read_bytes()
    for name in ROOT_FILES:
        found[f"pwa/{name}"] = (root / "pwa" / name).read_bytes()
    return dict(sorted(found.items()))


def content_hash(files: dict[str, bytes]) -> str:
    """A digest of every file's path and bytes."""
    digest = hashlib.sha256()
    for path, body in sorted(files.items()):
        digest.update(path.encode() + b"\0")
        digest.update(hashlib.sha256(body).digest())
    return digest.hexdigest()[:16]


def _mimetype(path: str) -> str:
    if path.endswith(".js"):
        return "text/javascript"
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def build_shell(root: Path, photo_max_bytes: int) -> Shell:
    sources = source_files(root, photo_max_bytes)
    version = content_hash(sources)
    index, worker, manifest = (
        sources.pop(f"pwa/{name}").decode()
        for name in ("index.html", "sw.js", "manifest.webmanifest")
    )
    if SHELL_MARK not in worker or VERSION_MARK not in worker:
        raise RuntimeError("pwa/sw.js lost its version or shell placeholder")
    files = {path: Asset.of(body, _mimetype(path)) for path, body in sources.items()}
    urls = precache_urls(version, files)
    worker = worker.replace(SHELL_MARK, json.dumps(list(urls))).replace(VERSION_MARK, version)
    return Shell(
        root=root,
        version=version,
        files=files,
        index_html=Asset.of(index.replace(VERSION_MARK, version).encode(), "text/html"),
        service_worker=Asset.of(worker.encode(), "text/javascript"),
        manifest=Asset.of(
            manifest.replace(VERSION_MARK, version).encode(), "application/manifest+json"
        ),
    )


@bp.record_once
def _load_shell(state) -> None:
    """Once per app, at start: later edits to the files need a restart (a deploy) to show."""
    config = state.app.config
    root = Path(config.get("APP_SHELL_DIR") or REPO_ROOT)
    limit = config.get("PHOTO_MAX_BYTES", PHOTO_DEFAULTS["PHOTO_MAX_BYTES"])
    state.app.extensions["app_shell"] = build_shell(root, limit)


def shell() -> Shell:
    return current_app.extensions["app_shell"]


def serve(asset: Asset, cache_control: str) -> Response:
    """The asset, gzipped for a browser that takes it; a matching ETag answers 304."""
    packed = asset.gzipped is not None and request.accept_encodings["gzip"] > 0
    response = Response(asset.gzipped if packed else asset.body, mimetype=asset.mimetype)
    if packed:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = cache_control
    response.set_etag(asset.etag + ("-gz" if packed else ""))
    return response.make_conditional(request)


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
    response = serve(shell().index_html, "no-cache")
    response.headers["Content-Security-Policy"] = SHELL_CSP
    return response


@bp.get("/sw.js")
def service_worker():
    return serve(shell().service_worker, "no-cache")


@bp.get("/manifest.webmanifest")
def manifest():
    return serve(shell().manifest, "no-cache")


@bp.get("/v/<version>/<path:filename>")
def shell_file(version: str, filename: str):
    """A file of this version of the shell: it never changes under its URL."""
    asset = shell().files.get(filename)
    if version != shell().version or asset is None:
        abort(404)  # an older version's URL: that version's worker has it cached
    return serve(asset, f"public, max-age={YEAR}, immutable")


@bp.get("/pwa/<path:filename>")
def pwa_file(filename: str):
    """The shell's modules under their plain names, for a page or script that knows only those."""
    if f"pwa/{filename}" not in shell().files:
        abort(404)
    return redirect(shell().prefix + f"pwa/{filename}")


@bp.get("/static/<path:filename>")
def static_file(filename: str):
    return send_from_directory(shell().root / "static", filename, max_age=3600)


@bp.get("/lang/<code>")
def set_language(code: str):
    response = redirect(safe_next(request.referrer, "/"))
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax")
    return response
