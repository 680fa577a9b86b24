"""Accounts: the one-time password flow on the API and the office sign-in, scope of who may
manage which account, and a disabled account's sessions ending at once."""

from sqlalchemy import select

from server import accounts
from server.extensions import db
from server.models import AuditEvent, User

NEW_PASSWORD = "my-own-password-1"


def _reset(world, username: str) -> str:
    user = world.users[username]
    one_time = accounts.reset_password(world.users["town_supervisor"], user)
    db.session.commit()
    return one_time


def test_one_time_password_holds_the_phone_until_changed(world, app):
    one_time = _reset(world, "chengzi_cadre")
    phone = app.test_client()
    answer = phone.post("/api/login", json={"username": "chengzi_cadre", "password": one_time})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["user"]["must_change_password"] is True
    csrf = {"X-CSRF-Token": body["csrf_token"]}
    refused = phone.get("/api/sync/pull")
    assert refused.status_code == 403
    assert refused.get_json()["error"] == "password_change_required"
    assert phone.get("/api/me").status_code == 200  # the phone may still ask who it is

    change = {"current_password": one_time, "new_password": "short", "repeated_password": "short"}
    bad = phone.post("/api/password", json=change, headers=csrf)
    assert bad.status_code == 422 and "new_password" in bad.get_json()["fields"]
    change |= {"current_password": "wrong-one-time", "new_password": NEW_PASSWORD}
    change["repeated_password"] = NEW_PASSWORD
    wrong = phone.post("/api/password", json=change, headers=csrf)
    assert wrong.status_code == 422 and "current_password" in wrong.get_json()["fields"]
    assert phone.post("/api/password", json=[1], headers=csrf).status_code == 400
    missing = phone.post("/api/password", json={"new_password": 5}, headers=csrf)
    assert missing.status_code == 422

    change["current_password"] = one_time
    changed = phone.post("/api/password", json=change, headers=csrf)
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["user"]["must_change_password"] is False
    assert phone.get("/api/sync/pull").status_code == 200  # the same phone goes on
    fresh = app.test_client()
    old = fresh.post("/api/login", json={"username": "chengzi_cadre", "password": one_time})
    assert old.status_code == 401
    login = {"username": "chengzi_cadre", "password": NEW_PASSWORD}
    assert fresh.post("/api/login", json=login).get_json()["user"]["must_change_password"] is False
    actions = db.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.entity == "user", AuditEvent.entity_id == world.users["chengzi_cadre"].id)
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["reset_password", "change_password"]


def test_one_time_password_on_the_office_sign_in(world, app):
    one_time = _reset(world, "chengzi_supervisor")
    browser = app.test_client()
    browser.get("/login")
    with browser.session_transaction() as session:
        token = session["csrf"]
    form = {"csrf_token": token, "username": "chengzi_supervisor", "password": one_time}
    signed_in = browser.post("/login", data=form | {"next": "/office/audit"})
    assert signed_in.status_code == 302
    held = browser.get("/office/audit")
    assert held.status_code == 302 and held.location.startswith("/password?next=")
    page = browser.get(held.location)
    assert "一次性密码" in page.get_data(as_text=True)
    with browser.session_transaction() as session:
        token = session["csrf"]
    change = {"csrf_token": token, "current": one_time, "new": NEW_PASSWORD}
    differ = browser.post("/password", data=change | {"repeated": "something-else"})
    assert differ.status_code == 422 and "两次" in differ.get_data(as_text=True)
    done = browser.post(
        "/password", data=change | {"repeated": NEW_PASSWORD, "next": "/office/audit"}
    )
    assert done.status_code == 302 and done.location == "/office/audit"
    assert browser.get("/office/audit").status_code == 200


def test_disabling_ends_open_sessions_at_once(world, app, login):
    cadre = login("chengzi_cadre")
    assert cadre.get("/api/sync/pull").status_code == 200
    accounts.set_enabled(world.users["town_supervisor"], world.users["chengzi_cadre"], False)
    db.session.commit()
    assert cadre.get("/api/sync/pull").status_code == 401
    again = app.test_client().post(
        "/api/login", json={"username": "chengzi_cadre", "password": "correct horse battery"}
    )
    assert again.status_code == 401
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "user")).one()
    assert (event.before, event.after) == ({"enabled": True}, {"enabled": False})


def test_scope_of_account_management(world):
    town, other = world.users["town_supervisor"], world.users["other_supervisor"]
    assert accounts.kinds_for(town) == ("cadre", "village")
    assert accounts.kinds_for(world.users["chengzi_supervisor"]) == ()
    assert accounts.kinds_for(world.users["chengzi_cadre"]) == ()
    foreign = accounts.NewAccount("zhao", "cadre", town=world.other_town)
    try:
        accounts.create(town, foreign)
    except accounts.AccountError as error:
        assert error.field == "town"
    else:
        raise AssertionError("a town supervisor created an account of another town")
    mixed = accounts.NewAccount("qian", "village", town=world.town, villages=(world.dongcun,))
    try:
        accounts.create(town, mixed)
    except accounts.AccountError as error:
        assert error.field == "villages"
    else:
        raise AssertionError("a village of another town was accepted")
    assert db.session.scalar(select(User).where(User.username.in_(["zhao", "qian"]))) is None
    assert other.id != town.id
