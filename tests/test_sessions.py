"""Sessions end on the server, and redirects built from input stay on this site."""

import re

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import UserSession
from tests.conftest import PASSWORD

COOKIES = ("session", "remember_token")


def _cookies(client) -> dict:
    return {name: client.get_cookie(name).value for name in COOKIES if client.get_cookie(name)}


def _replay(app, cookies: dict):
    """A new browser holding copies of the given cookies."""
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value)
    return thief


def _form_token(client, path="/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _api_sign_in(client, username="town_supervisor"):
    body = {"username": username, "password": PASSWORD, "remember": True}
    response = client.post("/api/login", json=body)
    assert response.status_code == 200
    return response.get_json()["csrf_token"]


def test_copies_of_both_cookies_work_until_api_sign_out_then_never(world, app, client):
    token = _api_sign_in(client)
    stolen = _cookies(client)
    assert set(stolen) == set(COOKIES)
    # Before sign-out each cookie alone opens the API and the pages.
    for name in COOKIES:
        copy = _replay(app, {name: stolen[name]})
        assert copy.get("/api/me").status_code == 200
        assert copy.get("/office/").status_code == 200

    assert client.post("/api/logout", headers={"X-CSRF-Token": token}).status_code == 204

    for cookies in ({"session": stolen["session"]}, {"remember_token": stolen["remember_token"]}):
        copy = _replay(app, cookies)
        assert copy.get("/api/me").status_code == 401
        page = copy.get("/office/")
        assert page.status_code == 302
        assert page.headers["Location"].startswith("/login")
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_sign_out_by_the_form_ends_the_session_and_the_remember_cookie(world, app, client):
    token = _form_token(client)
    form = {"username": "town_supervisor", "password": PASSWORD, "remember": "on"}
    signed_in = client.post("/login", data=form | {"csrf_token": token})
    assert signed_in.status_code == 302
    stolen = _cookies(client)
    assert set(stolen) == set(COOKIES)
    assert _replay(app, stolen).get("/office/").status_code == 200

    page_token = _form_token(client, "/office/")
    assert client.post("/logout", data={"csrf_token": page_token}).status_code == 302

    assert _replay(app, stolen).get("/office/").status_code == 302
    assert _replay(app, stolen).get("/api/me").status_code == 401


def test_sign_out_ends_only_that_sign_in(world, app, client):
    phone, office = app.test_client(), client
    _api_sign_in(phone, "chengzi_cadre")
    token = _api_sign_in(office, "chengzi_cadre")
    office.post("/api/logout", headers={"X-CSRF-Token": token})
    assert office.get("/api/me").status_code == 401
    assert phone.get("/api/me").status_code == 200


def test_a_new_sign_in_does_not_revive_an_ended_one(world, app, client):
    token = _api_sign_in(client)
    stolen = _cookies(client)
    client.post("/api/logout", headers={"X-CSRF-Token": token})
    _api_sign_in(client)
    assert _replay(app, stolen).get("/api/me").status_code == 401
    assert client.get("/api/me").status_code == 200


def test_password_reset_epoch_still_ends_every_session(world, app, client):
    _api_sign_in(client)
    user = world.users["town_supervisor"]
    user.session_epoch += 1
    db.session.commit()
    assert client.get("/api/me").status_code == 401


REFUSED_TARGETS = [
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/%09/evil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%5Cevil.example",
    "/%252F%252Fevil.example",
    "https://evil.example/",
    "http://evil.example/office/",
    "javascript:alert(1)",
    "data:text/html,hi",
    "evil.example",
    " /office/",
    "/office/\x00",
    "/office/%00",
    "/\x7f/evil.example",
]


@pytest.mark.parametrize("target", REFUSED_TARGETS)
def test_sign_in_never_redirects_off_the_site(world, client, target):
    token = _form_token(client)
    form = {"username": "town_supervisor", "password": PASSWORD, "next": target}
    response = client.post("/login", data=form | {"csrf_token": token})
    if "\x00" in target:  # no form may carry a NUL: refused whole, nobody signed in
        assert response.status_code == 400
        assert client.get("/office/").status_code == 302
        return
    assert response.status_code == 302
    assert response.headers["Location"] == "/office/"


@pytest.mark.parametrize("target", ["/office/needs-action?village=2", "/office/", "/"])
def test_sign_in_goes_back_to_a_path_of_this_site(world, client, target):
    token = _form_token(client)
    form = {"username": "town_supervisor", "password": PASSWORD, "next": target}
    response = client.post("/login", data=form | {"csrf_token": token})
    assert response.headers["Location"] == target


# A header cannot carry a line break, so those targets only come by form.
@pytest.mark.parametrize("referrer", [t for t in REFUSED_TARGETS if not {"\r", "\n"} & set(t)])
def test_language_switch_never_follows_a_foreign_referrer(world, client, referrer):
    response = client.get("/lang/en", headers={"Referer": referrer})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "lang=en" in response.headers["Set-Cookie"]


def test_language_switch_returns_to_the_page_of_this_site(world, client):
    response = client.get("/lang/en", headers={"Referer": "http://localhost/office/?x=1"})
    assert response.headers["Location"] == "/office/?x=1"


@pytest.mark.parametrize(
    "token",
    ["1:0", "1:0:", "x:0:abc", "1:0:" + "a" * 65, "１:0:abc", "9" * 30 + ":0:abc", "1:0:a:b", ""],
)
def test_odd_cookie_contents_name_nobody(world, app, token):
    from server.auth import load_user

    assert load_user(token) is None


def test_a_live_sign_in_is_found_by_its_cookie_contents(world, app, client):
    from server.auth import load_user

    _api_sign_in(client)
    row = db.session.scalars(select(UserSession)).one()
    user = world.users["town_supervisor"]
    assert load_user(f"{user.id}:{user.session_epoch}:{row.id}") == user
    assert load_user(f"{user.id}:{user.session_epoch + 1}:{row.id}") is None
    assert load_user(f"{world.users['admin'].id}:0:{row.id}") is None  # someone else's id
