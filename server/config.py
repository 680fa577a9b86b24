"""Settings: defaults here, overridden by ZOUFANG_* environment variables and DATABASE_URL.

Nothing is read at import time; `load` runs inside create_app.
"""

import os
import secrets
from pathlib import Path

DEFAULTS = {
    # "development" (local, demo data allowed), "test", or "production".
    "ENV": "development",
    "SECRET_KEY": None,
    "SQLALCHEMY_DATABASE_URI": None,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    # None: decided by ENV in load() (Secure everywhere but local plain-http development).
    "SESSION_COOKIE_SECURE": None,
    "REMEMBER_COOKIE_SECURE": None,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 30 * 24 * 3600,
    "JSON_SORT_KEYS": False,
    "BABEL_DEFAULT_LOCALE": "zh",
    "LANGUAGES": ["zh", "en"],
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    # Failed sign-ins within the window, per account from one address and per address,
    # that cost nothing; each one past them doubles the wait before the next try, from
    # LOGIN_DELAY_SECONDS up to LOGIN_DELAY_MAX (see login_throttle.py).
    "LOGIN_WINDOW_SECONDS": 15 * 60,
    "LOGIN_FREE_FAILURES_PER_PAIR": 5,
    "LOGIN_FREE_FAILURES_PER_ADDRESS": 30,
    "LOGIN_DELAY_SECONDS": 15,
    "LOGIN_DELAY_MAX": 15 * 60,
    "PAGE_SIZE_DEFAULT": 50,
    "PAGE_SIZE_MAX": 200,
    "IMPORT_MAX_ROWS": 500_000,
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are believed
    # (0: none, the connection's own address is the client's).
    "TRUSTED_PROXIES": 0,
    # Background jobs (server/jobs.py): a SQLite queue file (None: in the instance folder),
    # or Redis when a URL is set; immediate runs each job where it is enqueued (unit tests).
    "QUEUE_FILE": None,
    "REDIS_URL": None,
    "JOBS_IMMEDIATE": False,
    # The site's public address, printed in door-card QR codes (https://zoufang.example.cn).
    "PUBLIC_BASE_URL": None,
    # Household self-report page: [requests, window seconds] per address, reports per link.
    "SELFREPORT_PAGE_LIMIT_PER_ADDRESS": [120, 600],
    "SELFREPORT_POST_LIMIT_PER_ADDRESS": [30, 3600],
    "SELFREPORT_REPORTS_PER_HOUR": 6,
    "SELFREPORT_REPORTS_PER_DAY": 20,
    "SELFREPORT_MAX_PHOTO_BYTES": 10 * 1024 * 1024,
    # The folder holding pwa/ and static/ (None: the repository); hashed once at start.
    "APP_SHELL_DIR": None,
}


def database_url(raw: str) -> str:
    """Normalise a DATABASE_URL: plain postgres:// URLs use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def instance_path(test_config=None) -> str | None:
    """Where the SQLite file, photos and the local secret live (Flask's default if None)."""
    if test_config and test_config.get("INSTANCE_PATH"):
        return str(test_config["INSTANCE_PATH"])
    return os.environ.get("ZOUFANG_INSTANCE_PATH") or None


def load(app, test_config=None):
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("ZOUFANG")
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if test_config:
        app.config.from_mapping(test_config)

    cfg = app.config
    if not cfg["SQLALCHEMY_DATABASE_URI"]:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        cfg["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'zoufang.db'}"
    cfg["SQLALCHEMY_DATABASE_URI"] = database_url(cfg["SQLALCHEMY_DATABASE_URI"])
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite: one connection per thread is enough, and pre-ping is pointless.
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 15}}

    production = cfg["ENV"] == "production"
    if not cfg["SECRET_KEY"]:
        if production:
            raise RuntimeError("ZOUFANG_SECRET_KEY must be set in production")
        cfg["SECRET_KEY"] = _local_secret(Path(app.instance_path))
    # Secure cookies everywhere but on a developer's or a test's plain-http localhost.
    if cfg["SESSION_COOKIE_SECURE"] is None:
        cfg["SESSION_COOKIE_SECURE"] = cfg["ENV"] not in ("development", "test")
    if cfg["REMEMBER_COOKIE_SECURE"] is None:
        cfg["REMEMBER_COOKIE_SECURE"] = cfg["SESSION_COOKIE_SECURE"]


def _local_secret(instance: Path) -> str:
    """A per-installation secret for development, kept so sessions survive restarts."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
