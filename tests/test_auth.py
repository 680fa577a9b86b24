"""Sign-in, sessions, CSRF, throttling, cookies, password hashing."""

from argon2 import extract_parameters
from sqlalchemy import select

from server.extensions import db
from server.models import User
from tests.conftest import PASSWORD


def test_sign_in_me_and_sign_out(world, client):
    response = client.post("/api/login", json={"username": "chengzi_cadre", "password": PASSWORD})
    assert response.status_code == 200
    token = response.get_json()["csrf_token"]
    me = client.get("/api/me").get_json()
    assert me["user"]["username"] == "chengzi_cadre"
    assert me["user"]["role"] == "cadre"
    assert me["csrf_token"] == token
    assert client.post("/api/logout", headers={"X-CSRF-Token": token}).status_code == 204
    assert client.get("/api/me").status_code == 401


def test_username_is_case_insensitive(world, client):
    response = client.post("/api/login", json={"username": "Admin", "password": PASSWORD})
    assert response.status_code == 200


def test_wrong_password_and_unknown_user_answer_alike(world, client):
    wrong = client.post("/api/login", json={"username": "admin", "password": "nope-nope"})
    unknown = client.post("/api/login", json={"username": "nobody", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()


def test_missing_fields_answer_422_with_field_messages(world, client):
    response = client.post("/api/login", json={"username": "admin"})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "validation_failed"
    assert "password" in body["fields"]


def test_state_changing_calls_need_the_csrf_header(world, client):
    client.post("/api/login", json={"username": "admin", "password": PASSWORD})
    household_id = world.h_chengzi.id
    no_header = client.patch(f"/api/households/{household_id}", json={"phone": "13812345678"})
    assert no_header.status_code == 403
    assert no_header.get_json()["error"] == "csrf_failed"
    wrong = client.patch(
        f"/api/households/{household_id}",
        json={"phone": "13812345678"},
        headers={"X-CSRF-Token": "forged"},
    )
    assert wrong.status_code == 403
    db.session.expire_all()
    assert world.h_chengzi.phone is None


def test_disabled_account_cannot_sign_in_and_loses_its_session(world, client, login):
    signed_in = login("chengzi_cadre")
    user = world.users["chengzi_cadre"]
    user.enabled = False
    user.session_epoch += 1
    db.session.commit()
    assert signed_in.get("/api/me").status_code == 401
    response = client.post("/api/login", json={"username": "chengzi_cadre", "password": PASSWORD})
    assert response.status_code == 401


def test_session_cookie_flags(world, client, app):
    response = client.post("/api/login", json={"username": "admin", "password": PASSWORD})
    cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie" and "session=" in v)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert app.config["SESSION_COOKIE_SECURE"] is False  # plain-http test server


def test_cookies_are_secure_in_production(migrated, tmp_path):
    from server import create_app
    from tests.conftest import app_config

    config = app_config(migrated, tmp_path) | {"ENV": "production"}
    assert create_app(config).config["SESSION_COOKIE_SECURE"] is True


def test_passwords_are_argon2id_with_owasp_parameters(world):
    stored = db.session.scalar(select(User.password_hash).where(User.username == "admin"))
    params = extract_parameters(stored)
    assert stored.startswith("$argon2id$")
    assert (params.memory_cost, params.time_cost, params.parallelism) == (19 * 1024, 2, 1)


def test_oversized_body_answers_413(world, login, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    client = login("admin")
    response = client.patch(f"/api/households/{world.h_chengzi.id}", json={"address": "x" * 5000})
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_entity_too_large"
