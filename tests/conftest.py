"""Fixtures: a migrated database per test session (SQLite file, or a fresh PostgreSQL
database when DATABASE_URL points at a server), emptied after each test."""

import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.engine import make_url

from server import create_app
from server.extensions import db
from server.models import Assignment, Household, Member, Town, User, Village
from server.passwords import hash_password

PASSWORD = "correct horse battery"


def _admin_url(url) -> str:
    return url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )


@contextmanager
def fresh_database(directory):
    """A brand-new empty database: a SQLite file, or a throwaway PostgreSQL database when
    DATABASE_URL points at a server (dropped afterwards)."""
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith("postgres"):
        yield f"sqlite:///{directory / f'{uuid.uuid4().hex[:8]}.db'}"
        return
    url = make_url(server_url.replace("postgres://", "postgresql://", 1))
    name = f"zoufang_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin_url(url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """The test session's database, migrated once from empty by `migrated`."""
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def migrated(database_url, tmp_path_factory):
    app = create_app(app_config(database_url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def app_config(url, instance) -> dict:
    return {
        "TESTING": True,
        "ENV": "test",
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_PATH": str(instance),
        # Jobs run where they are enqueued; tests/test_import_jobs.py also runs a real worker.
        "JOBS_IMMEDIATE": True,
    }


def _empty_tables():
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        quoted = ", ".join(f'"{t}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(text(f'DELETE FROM "{table}"'))
    db.session.commit()


class FreshContextClient(FlaskClient):
    """Each request gets its own app context (its own g and db session), as in production,
    even though the test itself holds one open for its own queries."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(migrated, tmp_path):
    app = create_app(app_config(migrated, tmp_path / "instance"))
    app.test_client_class = FreshContextClient
    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def password_hash():
    return hash_password(PASSWORD)


class ApiClient:
    """A signed-in test client that sends the CSRF header on state-changing calls."""

    def __init__(self, client, csrf: str):
        self.client, self.csrf = client, csrf

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def _send(self, method, url, **kw):
        kw.setdefault("headers", {})["X-CSRF-Token"] = self.csrf
        return getattr(self.client, method)(url, **kw)

    def post(self, url, **kw):
        return self._send("post", url, **kw)

    def patch(self, url, **kw):
        return self._send("patch", url, **kw)

    def put(self, url, **kw):
        return self._send("put", url, **kw)

    def delete(self, url, **kw):
        return self._send("delete", url, **kw)


@pytest.fixture
def login(app):
    def sign_in(username: str, password: str = PASSWORD) -> ApiClient:
        client = app.test_client()
        response = client.post("/api/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.get_json()
        return ApiClient(client, response.get_json()["csrf_token"])

    return sign_in


# A valid ID number generator for test households: check digit computed, not hard-coded.
def id_number(serial: int, birth: str = "19650312", region: str = "370302") -> str:
    from server.idcard import check_digit

    first17 = f"{region}{birth}{serial % 1000:03d}"
    return first17 + check_digit(first17)


@dataclass
class World:
    """Two towns: 太河镇 (城子村, 纱帽村) and 寨里镇 (东村), a household in each village."""

    town: Town
    other_town: Town
    chengzi: Village
    shamao: Village
    dongcun: Village
    h_chengzi: Household
    h_shamao: Household
    h_other_town: Household
    users: dict


@pytest.fixture
def world(app, password_hash) -> World:
    taihe = Town(name="太河镇", office_phone="0533-5000000")
    zhaili = Town(name="寨里镇")
    chengzi = Village(town=taihe, name="城子村")
    shamao = Village(town=taihe, name="纱帽村")
    dongcun = Village(town=zhaili, name="东村")
    households = []
    for n, village in enumerate((chengzi, shamao, dongcun), start=1):
        household = Household(code=f"H{n:04d}", village=village, head_name=f"户主{n}", klass="B")
        household.members = [
            Member(
                name=f"户主{n}",
                id_number=id_number(n),
                relation="户主",
                sex="M",
                birth_year=1965,
                health="健康",
                labour_capacity="普通劳动力",
            ),
        ]
        households.append(household)

    def user(username, role, town=None, villages=()):
        return User(
            username=username,
            display_name=username,
            role=role,
            town=town,
            villages=list(villages),
            password_hash=password_hash,
            phone="13900000000",
        )

    users = {
        "admin": user("admin", "admin"),
        "town_supervisor": user("town_supervisor", "supervisor", taihe),
        "chengzi_supervisor": user("chengzi_supervisor", "supervisor", taihe, [chengzi]),
        "other_supervisor": user("other_supervisor", "supervisor", zhaili),
        "chengzi_cadre": user("chengzi_cadre", "cadre", taihe),
        "shamao_cadre": user("shamao_cadre", "cadre", taihe),
        "other_cadre": user("other_cadre", "cadre", zhaili),
    }
    db.session.add_all([taihe, zhaili, *households, *users.values()])
    db.session.add_all(
        [
            Assignment(household=households[0], cadre=users["chengzi_cadre"]),
            Assignment(household=households[1], cadre=users["shamao_cadre"]),
            Assignment(household=households[2], cadre=users["other_cadre"]),
        ]
    )
    db.session.commit()
    return World(taihe, zhaili, chengzi, shamao, dongcun, *households, users)


# Figures a test measures (calls made, routes covered), printed at the end of the run.
_SUMMARY: list[str] = []


@pytest.fixture
def summary():
    return _SUMMARY.append


def pytest_terminal_summary(terminalreporter):
    if _SUMMARY:
        terminalreporter.section("figures")
        for line in _SUMMARY:
            terminalreporter.write_line(line)
