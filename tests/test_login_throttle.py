"""Failed sign-ins slow a guesser down at their own address and never lock the real user out."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import LoginFailure
from tests.conftest import PASSWORD

ATTACKER, OWNER = "203.0.113.7", "198.51.100.20"


def _try(client, address, username="admin", password="wrong-pass"):
    return client.post(
        "/api/login",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def _let_time_pass(seconds: int) -> None:
    """As if every recorded failure happened `seconds` earlier."""
    for failure in db.session.scalars(select(LoginFailure)):
        failure.at -= timedelta(seconds=seconds)
    db.session.commit()


def test_guessing_from_one_address_never_locks_the_owner_out_elsewhere(world, app, client):
    for _ in range(3 * app.config["LOGIN_FREE_FAILURES_PER_PAIR"]):
        assert _try(client, ATTACKER).status_code in (401, 429)
    assert _try(client, ATTACKER, password=PASSWORD).status_code == 429
    assert _try(client, OWNER, password=PASSWORD).status_code == 200


def test_past_the_free_tries_the_wait_doubles_and_is_told(world, app, client):
    free, delay = app.config["LOGIN_FREE_FAILURES_PER_PAIR"], app.config["LOGIN_DELAY_SECONDS"]
    for _ in range(free):
        assert _try(client, ATTACKER).status_code == 401
    waits = []
    for _ in range(3):
        refused = _try(client, ATTACKER)
        assert refused.status_code == 429
        assert refused.get_json()["error"] == "too_many_attempts"
        waits.append(int(refused.headers["Retry-After"]))
        _let_time_pass(waits[-1])
        assert _try(client, ATTACKER).status_code == 401  # one more try after the wait
    assert waits == [delay, 2 * delay, 4 * delay]


def test_the_owner_at_a_shared_address_gets_in_after_the_wait(world, app, client):
    for _ in range(app.config["LOGIN_FREE_FAILURES_PER_PAIR"] + 1):
        _try(client, OWNER, password="forgot-it")
    assert _try(client, OWNER, password=PASSWORD).status_code == 429
    _let_time_pass(app.config["LOGIN_DELAY_MAX"])
    assert _try(client, OWNER, password=PASSWORD).status_code == 200
    # The right password cleared this account's count from here.
    assert _try(client, OWNER, password="typo-once").status_code == 401
    assert _try(client, OWNER, password=PASSWORD).status_code == 200


def test_many_accounts_from_one_address_are_slowed(world, app, client):
    app.config["LOGIN_FREE_FAILURES_PER_ADDRESS"] = 4
    for n in range(4):
        assert _try(client, ATTACKER, username=f"guess{n}").status_code == 401
    slowed = _try(client, ATTACKER, username="town_supervisor", password=PASSWORD)
    assert slowed.status_code == 429
    assert int(slowed.headers["Retry-After"]) > 0
    assert _try(client, OWNER, username="town_supervisor", password=PASSWORD).status_code == 200


def test_the_sign_in_form_answers_the_wait_too(world, app, client):
    for _ in range(app.config["LOGIN_FREE_FAILURES_PER_PAIR"]):
        _try(client, ATTACKER)
    page = client.get("/login", environ_base={"REMOTE_ADDR": ATTACKER}).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"username": "admin", "password": PASSWORD, "csrf_token": token}
    response = client.post("/login", data=form, environ_base={"REMOTE_ADDR": ATTACKER})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) == app.config["LOGIN_DELAY_SECONDS"]


def test_no_raw_address_or_username_is_stored(world, client):
    _try(client, ATTACKER)
    keys = db.session.scalars(select(LoginFailure.key)).all()
    assert len(keys) == 2
    assert not any(ATTACKER in key or "admin" in key for key in keys)


def _app_behind(migrated, tmp_path, proxies: int):
    from server import create_app
    from tests.conftest import FreshContextClient, app_config

    config = app_config(migrated, tmp_path / f"behind-{proxies}") | {"TRUSTED_PROXIES": proxies}
    app = create_app(config)
    app.test_client_class = FreshContextClient
    return app


def _via_proxy(client, forwarded_for, password="wrong-pass"):
    return client.post(
        "/api/login",
        json={"username": "admin", "password": password},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},  # the reverse proxy
        headers={"X-Forwarded-For": forwarded_for},
    )


def test_behind_a_trusted_proxy_each_client_address_counts_apart(world, migrated, tmp_path):
    client = _app_behind(migrated, tmp_path, 1).test_client()
    for _ in range(10):
        _via_proxy(client, ATTACKER)
    # A guesser cannot pick a fresh address by sending X-Forwarded-For of their own: the
    # proxy appends the address it saw, and only that last hop is believed.
    assert _via_proxy(client, f"192.0.2.99, {ATTACKER}", PASSWORD).status_code == 429
    assert _via_proxy(client, OWNER, PASSWORD).status_code == 200


def test_without_trusted_proxies_forwarded_headers_are_ignored(world, migrated, tmp_path):
    client = _app_behind(migrated, tmp_path, 0).test_client()
    for _ in range(10):
        _via_proxy(client, ATTACKER)
    assert _via_proxy(client, OWNER, PASSWORD).status_code == 429  # all one address: the proxy


def test_trusted_proxies_come_from_the_environment(migrated, tmp_path, monkeypatch):
    from server import create_app
    from tests.conftest import app_config

    monkeypatch.setenv("ZOUFANG_TRUSTED_PROXIES", "2")
    app = create_app(app_config(migrated, tmp_path / "env"))
    assert app.config["TRUSTED_PROXIES"] == 2
    assert type(app.wsgi_app).__name__ == "ProxyFix"
    monkeypatch.setenv("ZOUFANG_TRUSTED_PROXIES", "many")
    with pytest.raises(RuntimeError, match="ZOUFANG_TRUSTED_PROXIES"):
        create_app(app_config(migrated, tmp_path / "env"))
