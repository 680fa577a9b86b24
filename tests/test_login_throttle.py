"""Failed sign-ins slow a guesser down at their own address and never lock the real user out."""

import re
from datetime import timedelta

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
