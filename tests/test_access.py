"""The role x endpoint access matrix, with ids from outside each user's scope."""

import pytest

from server import access
from server.extensions import db

# Which of the world's households each user may see.
VISIBLE = {
    "admin": {"h_chengzi", "h_shamao", "h_other_town"},
    "town_supervisor": {"h_chengzi", "h_shamao"},
    "chengzi_supervisor": {"h_chengzi"},
    "other_supervisor": {"h_other_town"},
    "chengzi_cadre": {"h_chengzi"},
    "shamao_cadre": {"h_shamao"},
    "other_cadre": {"h_other_town"},
}
HOUSEHOLDS = ("h_chengzi", "h_shamao", "h_other_town")
EDITORS = {"admin", "town_supervisor", "chengzi_supervisor", "other_supervisor"}


@pytest.mark.parametrize("username", sorted(VISIBLE))
def test_list_shows_only_the_scope(world, login, username):
    client = login(username)
    codes = {item["code"] for item in client.get("/api/households").get_json()["items"]}
    assert codes == {getattr(world, name).code for name in VISIBLE[username]}


@pytest.mark.parametrize("username", sorted(VISIBLE))
@pytest.mark.parametrize("name", HOUSEHOLDS)
def test_read_endpoints_answer_404_outside_scope(world, login, username, name):
    client = login(username)
    household = getattr(world, name)
    member = household.members[0]
    expected_read = 200 if name in VISIBLE[username] else 404
    assert client.get(f"/api/households/{household.id}").status_code == expected_read
    unmask = client.post(f"/api/members/{member.id}/id-number", json={"reason": "低保申请核对"})
    if name not in VISIBLE[username]:
        assert unmask.status_code == 404
    else:
        assert unmask.status_code == (200 if username in EDITORS else 403)


@pytest.mark.parametrize("username", sorted(VISIBLE))
@pytest.mark.parametrize("name", HOUSEHOLDS)
def test_write_endpoints_obey_scope_then_role(world, login, username, name):
    client = login(username)
    household = getattr(world, name)
    member_id = household.members[0].id
    visible = name in VISIBLE[username]
    expected = 404 if not visible else (200 if username in EDITORS else 403)
    assert (
        client.patch(f"/api/households/{household.id}", json={"phone": "13800000001"}).status_code
        == expected
    )
    assert (
        client.patch(f"/api/members/{member_id}", json={"health": "大病"}).status_code == expected
    )
    added = client.post(
        f"/api/households/{household.id}/members",
        json={"name": "新成员", "id_number": _valid_id(7), "relation": "子"},
    )
    assert added.status_code == (201 if expected == 200 else expected)


def test_nonexistent_and_foreign_ids_answer_alike(world, login):
    client = login("chengzi_cadre")
    foreign = client.get(f"/api/households/{world.h_other_town.id}")
    missing = client.get("/api/households/999999")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.get_json() == missing.get_json()


def test_supervisor_cannot_assign_a_cadre_of_another_town(world, login):
    client = login("town_supervisor")
    other_cadre = world.users["other_cadre"]
    response = client.post(
        f"/api/households/{world.h_chengzi.id}/assignments", json={"cadre_id": other_cadre.id}
    )
    assert response.status_code == 404


def test_assign_and_unassign_change_what_a_cadre_sees(world, login):
    supervisor = login("town_supervisor")
    cadre = world.users["shamao_cadre"]
    url = f"/api/households/{world.h_chengzi.id}/assignments"
    assigned = supervisor.post(url, json={"cadre_id": cadre.id})
    assert {c["id"] for c in assigned.get_json()["cadres"]} == {
        world.users["chengzi_cadre"].id,
        cadre.id,
    }
    cadre_client = login("shamao_cadre")
    assert cadre_client.get(f"/api/households/{world.h_chengzi.id}").status_code == 200
    removed = supervisor.delete(f"{url}/{cadre.id}")
    assert removed.status_code == 200, removed.get_json()
    assert cadre_client.get(f"/api/households/{world.h_chengzi.id}").status_code == 404


def test_supervisor_cannot_move_a_household_out_of_scope(world, login):
    client = login("chengzi_supervisor")
    response = client.patch(
        f"/api/households/{world.h_chengzi.id}", json={"village_id": world.shamao.id}
    )
    assert response.status_code == 422
    assert "village_id" in response.get_json()["fields"]
    db.session.expire_all()
    assert db.session.get(type(world.h_chengzi), world.h_chengzi.id).village_id == world.chengzi.id


def test_village_list_is_scoped(world, login):
    names = {v["name"] for v in login("chengzi_supervisor").get("/api/villages").get_json()}
    assert names == {"城子村"}
    assert {v.name for v in db.session.scalars(access.villages(world.users["admin"]))} == {
        "城子村",
        "纱帽村",
        "东村",
    }


def test_anonymous_gets_401(world, client):
    assert client.get("/api/households").status_code == 401
    assert client.get(f"/api/households/{world.h_chengzi.id}").status_code == 401
    assert client.get("/api/me").status_code == 401


def _valid_id(serial: int) -> str:
    from tests.conftest import id_number

    return id_number(serial, birth="19900101")
