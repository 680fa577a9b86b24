"""Migrations bring an empty database to the models' schema, and back down, on both engines."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from server import create_app
from server.extensions import db, exists_on
from tests.conftest import app_config, fresh_database


def _differences() -> list:
    with db.engine.connect() as connection:

        def include_object(obj, name, type_, reflected, compare_to):
            return reflected or exists_on(obj, connection.dialect.name)

        opts = {"render_as_batch": True, "include_object": include_object}
        context = MigrationContext.configure(connection, opts=opts)
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_matches_models_and_downgrades(tmp_path):
    with fresh_database(tmp_path) as url:
        app = create_app(app_config(url, tmp_path / "instance"))
        with app.app_context():
            assert inspect(db.engine).get_table_names() == []
            upgrade()
            assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
            assert _differences() == []
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            upgrade()
            assert _differences() == []
            db.engine.dispose()
