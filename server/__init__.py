"""Zoufang: household support visits. The application factory."""

import logging

from flask import Flask
from flask_babel import get_locale
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import (
    auth,
    config,
    errors,
    households,
    importer,
    jobs,
    measures,
    office,
    openapi,
    pages,
    params,
    password_change,
    photos,
    security,
    sync,
)
from .cli import register_commands
from .extensions import babel, db, login_manager, migrate
from .selfreport import api as selfreport_api
from .selfreport import public as selfreport_public


def create_app(test_config=None) -> Flask:
    app = Flask(__name__, static_folder=None, instance_path=config.instance_path(test_config))
    params.register(app)  # before any route: the id converter is bound as routes are added
    config.load(app, test_config)
    logging.basicConfig(level=logging.INFO)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/migrations"), render_as_batch=True)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=pages.select_locale)
    app.jinja_env.globals["get_locale"] = get_locale  # base.html sets <html lang> from it

    errors.register(app)
    auth.register(app)
    password_change.register(app)
    for blueprint in (households.bp, measures.bp, importer.bp, openapi.bp, pages.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(office.bp)
    app.register_blueprint(office.redirects_bp)
    for blueprint in (sync.bp, photos.bp):
        app.register_blueprint(blueprint)
    for blueprint in (selfreport_api.bp, selfreport_public.bp):
        app.register_blueprint(blueprint)
    register_commands(app)
    jobs.init_app(app)
    security.register(app)
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL for concurrent readers, enforced foreign keys, and waiting on a busy writer."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
