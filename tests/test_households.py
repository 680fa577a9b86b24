"""The registry API: listing, keyset pages, search, detail, edits, members, masking, audit."""

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, Household, Member
from tests.conftest import id_number


def _add_households(world, count, klass="A"):
    rows = [
        Household(code=f"P{n:05d}", village=world.chengzi, head_name=f"王{n}", klass=klass)
        for n in range(count)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def test_keyset_pages_walk_every_household_once(world, login):
    _add_households(world, 120)
    client = login("admin")
    seen, cursor = [], None
    while True:
        url = "/api/households?limit=50" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url).get_json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 123
    assert seen == sorted(seen)


def test_filters_by_village_class_and_text(world, login):
    _add_households(world, 3, klass="C")
    client = login("town_supervisor")

    def codes(query):
        return {i["code"] for i in client.get(f"/api/households?{query}").get_json()["items"]}

    assert codes(f"village_id={world.shamao.id}") == {"H0002"}
    assert codes("klass=C") == {"P00000", "P00001", "P00002"}
    assert codes("q=王1") == {"P00001"}
    assert codes("q=P0000") == {"P00000", "P00001", "P00002"}
    assert codes("q=%25") == set()  # a literal % matches nothing, it is not a wildcard
    assert codes(f"village_id={world.dongcun.id}") == set()  # another town's village


def test_bad_filters_and_cursors_are_clear_errors(world, login):
    client = login("admin")
    bad = client.get("/api/households?klass=E&limit=0")
    assert bad.status_code == 422
    assert set(bad.get_json()["fields"]) == {"klass", "limit"}
    cursor = client.get("/api/households?cursor=!!notacursor")
    assert cursor.status_code == 400
    assert cursor.get_json()["error"] == "bad_cursor"


def test_detail_masks_id_numbers_and_lists_cadres(world, login):
    body = login("chengzi_cadre").get(f"/api/households/{world.h_chengzi.id}").get_json()
    number = world.h_chengzi.members[0].id_number
    assert body["members"][0]["id_number"] == number[:6] + "********" + number[-4:]
    assert number not in str(body)
    assert [c["display_name"] for c in body["cadres"]] == ["chengzi_cadre"]
    assert body["village"]["name"] == "城子村"


def test_unmasking_needs_a_reason_and_is_audited(world, login):
    client = login("town_supervisor")
    member = world.h_chengzi.members[0]
    url = f"/api/members/{member.id}/id-number"
    assert client.post(url, json={}).status_code == 422
    response = client.post(url, json={"reason": "办理残疾证核对身份"})
    assert response.get_json() == {"id_number": member.id_number}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "unmask"))
    assert event.entity_id == member.id
    assert event.reason == "办理残疾证核对身份"
    assert event.actor_id == world.users["town_supervisor"].id


def test_create_household_with_members(world, login):
    client = login("town_supervisor")
    payload = {
        "code": "H9001",
        "village_id": world.shamao.id,
        "head_name": "李玉忠",
        "klass": "A",
        "phone": "13905330001",
        "members": [
            {"name": "李玉忠", "id_number": id_number(11), "relation": "户主"},
            {"name": "张兰", "id_number": id_number(12, birth="19680704"), "relation": "配偶"},
        ],
    }
    response = client.post("/api/households", json=payload)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert [m["birth_year"] for m in body["members"]] == [1965, 1968]
    assert client.post("/api/households", json=payload).status_code == 409
    created = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "create"))
    assert created.after["code"] == "H9001"


def test_invalid_household_writes_nothing(world, login):
    client = login("town_supervisor")
    bad_id = id_number(13)[:-1] + ("0" if id_number(13)[-1] != "0" else "1")
    response = client.post(
        "/api/households",
        json={
            "code": "H9002",
            "village_id": world.shamao.id,
            "head_name": "赵",
            "klass": "A",
            "members": [{"name": "赵", "id_number": bad_id, "relation": "户主"}],
        },
    )
    assert response.status_code == 422
    assert "check digit" in str(response.get_json()["fields"]["members"])
    assert db.session.scalar(select(Household).where(Household.code == "H9002")) is None


def test_edit_bumps_version_and_audits_the_change_only(world, login):
    client = login("town_supervisor")
    url = f"/api/households/{world.h_chengzi.id}"
    version = client.get(url).get_json()["version"]
    edited = client.patch(url, json={"phone": " 13905330002 ", "klass": "C"}).get_json()
    assert edited["phone"] == "13905330002"
    assert edited["version"] == version + 1
    assert client.patch(url, json={"phone": "13905330002"}).get_json()["version"] == version + 1
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "update")).all()
    assert len(events) == 1
    assert events[0].before == {"phone": None, "klass": "B"}
    assert events[0].after == {"phone": "13905330002", "klass": "C"}


def test_member_edit_and_removal(world, login):
    client = login("admin")
    member = world.h_chengzi.members[0]
    member_id, number = member.id, member.id_number
    edited = client.patch(f"/api/members/{member.id}", json={"health": "大病"})
    assert edited.get_json()["health"] == "大病"
    bad = client.patch(f"/api/members/{member.id}", json={"sex": "X"})
    assert bad.status_code == 422
    assert client.delete(f"/api/members/{member_id}").status_code == 204
    db.session.expire_all()
    assert db.session.get(Member, member_id) is None
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "member")).all()
    assert [e.action for e in audit] == ["update", "delete"]
    assert number not in str([(e.before, e.after) for e in audit])


def test_a_non_json_body_is_a_validation_error(world, login):
    client = login("admin")
    response = client.patch(
        f"/api/households/{world.h_chengzi.id}", data="phone=1", content_type="text/plain"
    )
    assert response.status_code == 400
    assert response.get_json()["message"] == "The body must be a JSON object."


def test_every_registry_write_gives_the_household_one_new_version(world, login):
    """The versions come from one place (the session hooks), whichever write it is."""
    client = login("town_supervisor")
    household = f"/api/households/{world.h_chengzi.id}"

    def version():
        return client.get(household).get_json()["version"]

    start = version()
    added = client.post(
        f"{household}/members",
        json={"name": "李梅", "id_number": id_number(71), "relation": "配偶"},
    ).get_json()
    assert version() == start + 1
    client.patch(f"/api/members/{added['id']}", json={"health": "慢性病"})
    assert version() == start + 2
    cadre = world.users["shamao_cadre"].id
    client.post(f"{household}/assignments", json={"cadre_id": cadre})
    assert version() == start + 3
    client.delete(f"{household}/assignments/{cadre}")
    assert version() == start + 4
    client.delete(f"/api/members/{added['id']}")
    assert version() == start + 5
    client.patch(f"/api/members/{world.h_chengzi.members[0].id}", json={"health": "健康"})
    assert version() == start + 5  # the same value: no change, no new version
