"""The sync protocol, server side: push (visits, household edits), replay, concurrency, pull."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import (
    Assignment,
    AuditEvent,
    CropRecord,
    DataConflict,
    DeviceStatus,
    Household,
    SyncRecord,
    Visit,
    utcnow,
)
from server.sync import edits, visits
from tests import syncdata
from tests.syncdata import crop, device_time, edit, new_uuid, push, results, visit


def count(model, *where) -> int:
    db.session.rollback()  # a fresh read, after the requests' own transactions
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def fresh(model, ident):
    db.session.rollback()
    return db.session.get(model, ident)


# --- push: visits ---------------------------------------------------------------------------


def test_push_stores_visit_with_crops_and_device(world, login):
    client = login("chengzi_cadre")
    photo_uuids = [new_uuid(), new_uuid()]
    record = visit(
        world.h_chengzi.id,
        crops=[crop(), crop(crop="other", crop_name="玉米", area_mu="1.25", plants=None)],
        photo_uuids=photo_uuids,
        sudden_event="illness",
    )
    [result] = results(client, [record])
    assert result["status"] == "created"
    assert result["photos_missing"] == photo_uuids
    stored = fresh(Visit, result["id"])
    assert stored.uuid == record["uuid"]
    assert stored.cadre_id == world.users["chengzi_cadre"].id
    assert stored.sudden_event == "illness"
    assert stored.photos_expected == 2 and not stored.device_time_suspect
    assert stored.received_at > stored.visited_at
    assert {(c.crop, c.crop_name, c.area_mu) for c in stored.crops} == {
        ("kiwifruit", None, Decimal("0.50")),
        ("other", "玉米", Decimal("1.25")),
    }
    assert {c.uuid for c in stored.crops} == {c["uuid"] for c in record["data"]["crops"]}
    assert fresh(Household, world.h_chengzi.id).last_visit_at == stored.visited_at
    device = db.session.scalar(select(DeviceStatus))
    # Left on the phone after this push: two of its three records; its photos are those of
    # the visit just stored, which the server counts from the visit until they arrive.
    assert (device.device_id, device.pending_records, device.pending_photos) == (
        syncdata.DEVICE["id"],
        2,
        0,
    )


def test_replay_answers_as_the_first_time_and_makes_no_second_row(world, login):
    client = login("chengzi_cadre")
    household = world.h_chengzi
    member_id = household.members[0].id
    batch = [
        visit(household.id, crops=[crop()], photo_uuids=[new_uuid()]),
        edit(household.id, household.version, {"members": {str(member_id): {"health": "大病"}}}),
    ]
    first = results(client, batch)
    assert [r["status"] for r in first] == ["created", "merged"]
    again = results(client, batch)
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    for before, after in zip(first, again, strict=True):
        assert {k: v for k, v in before.items() if k != "status"} == {
            k: v for k, v in after.items() if k != "status"
        }
    assert count(Visit) == 1 and count(CropRecord) == 1 and count(SyncRecord) == 1
    assert fresh(Household, household.id).version == first[1]["version"]
    assert count(AuditEvent, AuditEvent.entity == "member") == 1


def test_same_record_twice_in_one_batch_is_one_row(world, login):
    record = visit(world.h_chengzi.id)
    first, second = results(login("chengzi_cadre"), [record, record])
    assert (first["status"], second["status"]) == ("created", "duplicate")
    assert first["id"] == second["id"] and count(Visit) == 1


def test_copy_slipping_past_the_pre_read_is_caught_by_the_unique_key(world, login, monkeypatch):
    """Two copies at the same moment both miss each other in the batch's first read; the
    unique constraint stops the second inside its own savepoint, and the batch goes on."""
    client = login("chengzi_cadre")
    household = world.h_chengzi
    known_visit = visit(household.id, crops=[crop()])
    known_edit = edit(household.id, household.version, {"phone": "13900000001"})
    first = results(client, [known_visit, known_edit])
    blind_visits, blind_edits = visits.VisitIngest.__init__, edits.EditMerge.__init__

    def without_visits(self, *args):
        blind_visits(self, *args)
        self.stored, self.taken_crops = {}, set()

    def without_edits(self, *args):
        blind_edits(self, *args)
        self.stored = {}

    monkeypatch.setattr(visits.VisitIngest, "__init__", without_visits)
    monkeypatch.setattr(edits.EditMerge, "__init__", without_edits)
    new_one = visit(household.id)
    answer = results(client, [known_visit, known_edit, new_one])
    assert [r["status"] for r in answer] == ["duplicate", "duplicate", "created"]
    assert [r["id"] for r in answer[:2]] == [r["id"] for r in first]
    assert count(Visit) == 2 and count(CropRecord) == 1 and count(SyncRecord) == 1


def _push_at_once(app, login, records, copies=2) -> list[list[dict]]:
    clients = [login("chengzi_cadre") for _ in range(copies)]
    barrier = threading.Barrier(copies)
    answers: list = [None] * copies

    def run(index):
        barrier.wait()
        answers[index] = push(clients[index], records)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(a is not None and a.status_code == 200 for a in answers), answers
    return [a.get_json()["results"] for a in answers]


def test_concurrent_duplicate_pushes_make_one_row(app, world, login):
    household = world.h_chengzi
    records = [visit(household.id, crops=[crop()]) for _ in range(10)]
    records.append(edit(household.id, household.version, {"phone": "13900000002"}))
    first, second = _push_at_once(app, login, records)
    for a, b in zip(first, second, strict=True):
        assert sorted([a["status"], b["status"]]) in (
            ["created", "duplicate"],
            ["duplicate", "merged"],
        )
        assert a["id"] == b["id"]
    assert count(Visit) == 10 and count(CropRecord) == 10 and count(SyncRecord) == 1
    assert count(AuditEvent, AuditEvent.entity == "household") == 1


def test_a_bad_record_is_rejected_alone(world, login):
    good, bad, also_good = (
        visit(world.h_chengzi.id),
        visit(world.h_chengzi.id, situation={"health": "terrible"}, visited_at="yesterday"),
        visit(world.h_chengzi.id, crops=[crop(area_mu="-1")]),
    )
    answer = results(login("chengzi_cadre"), [good, bad, also_good])
    assert [r["status"] for r in answer] == ["created", "rejected", "rejected"]
    assert answer[1]["code"] == 422 and answer[1]["error"] == "validation_failed"
    assert set(answer[1]["fields"]) == {"situation", "visited_at"}
    assert set(answer[2]["fields"]["crops"]["0"]) == {"area_mu"}
    assert count(Visit) == 1


def test_unknown_kind_and_unknown_fields_are_rejected_alone(world, login):
    odd = {"uuid": new_uuid(), "kind": "diary", "data": {}}
    extra = visit(world.h_chengzi.id, secret="x")
    good = visit(world.h_chengzi.id)
    answer = results(login("chengzi_cadre"), [odd, extra, good])
    assert [r["status"] for r in answer] == ["rejected", "rejected", "created"]
    assert "kind" in answer[0]["fields"] and "secret" in answer[1]["fields"]


def test_foreign_household_is_rejected_with_404(world, login):
    foreign = visit(world.h_other_town.id)
    missing = visit(999999)
    mine = visit(world.h_chengzi.id)
    answer = results(login("chengzi_cadre"), [foreign, missing, mine])
    assert [(r["status"], r.get("code")) for r in answer] == [
        ("rejected", 404),
        ("rejected", 404),
        ("created", None),
    ]
    assert answer[0]["message"] == answer[1]["message"]
    assert count(Visit) == 1


def test_another_users_uuid_is_not_answered(world, login):
    record = visit(world.h_chengzi.id)
    results(login("chengzi_cadre"), [record])
    taken = dict(record, data=dict(record["data"], household_id=world.h_shamao.id))
    [answer] = results(login("shamao_cadre"), [taken])
    assert (answer["status"], answer["code"], answer["error"]) == ("rejected", 409, "uuid_taken")
    assert "id" not in answer
    assert count(Visit) == 1


def test_a_failure_mid_batch_writes_nothing(world, login, monkeypatch):
    def broken(self, *args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(edits.EditMerge, "merge", broken)
    batch = [
        visit(world.h_chengzi.id, crops=[crop()]),
        edit(world.h_chengzi.id, 1, {"phone": "13900000003"}),
    ]
    with pytest.raises(RuntimeError):
        push(login("chengzi_cadre"), batch)
    assert count(Visit) == 0 and count(CropRecord) == 0 and count(DeviceStatus) == 0
    assert fresh(Household, world.h_chengzi.id).last_visit_at is None


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"records": "nope"}, 400),
        ({"records": [{"kind": "visit", "data": {}}]}, 400),
        ({"records": [{"uuid": "not-a-uuid", "kind": "visit", "data": {}}]}, 400),
        ({"records": [{"uuid": new_uuid(), "kind": "visit", "data": {}}] * 101}, 413),
    ],
)
def test_malformed_envelope_acknowledges_nothing(world, login, body, status):
    response = login("chengzi_cadre").post("/api/sync/push", json=body)
    assert response.status_code == status
    assert "results" not in response.get_json()


def test_a_device_block_that_does_not_fit_never_blocks_the_records(world, login):
    client = login("chengzi_cadre")
    [created] = results(client, [visit(world.h_chengzi.id)], device={"id": "", "pending": -1})
    assert created["status"] == "created" and count(DeviceStatus) == 0
    big = syncdata.DEVICE | {"storage_free_bytes": 300 * 1024**3}  # more than 32 bits
    results(client, [], device=big)
    assert db.session.scalar(select(DeviceStatus.storage_free_bytes)) == 300 * 1024**3


@pytest.mark.parametrize(
    "data",
    [
        {"household_id": 2**40},
        {"household_id": 10**30},
        {"crops": [crop(plants=2**40)]},
        {"crops": [crop(yield_kg=10**20)]},
        {"crops": [crop(expected_income_fen=10**15)]},
        {"crops": [crop(area_mu="1e30")]},
        {"crops": [crop(area_mu="NaN")]},
        {"visited_at": "0001-01-01T00:00:00+08:00"},
        {"visited_at": "2150-01-01T00:00:00+08:00"},
        {"report_id": 2**40},
    ],
)
def test_out_of_range_numbers_are_rejected_not_500(world, login, data):
    record = visit(world.h_chengzi.id)
    record["data"] |= data
    [answer] = results(login("chengzi_cadre"), [record])
    assert answer["status"] == "rejected" and answer["code"] in (404, 422), answer


def test_push_needs_sign_in_and_csrf(world, client, login):
    record = visit(world.h_chengzi.id)
    assert client.post("/api/sync/push", json={"records": [record]}).status_code == 401
    signed_in = login("chengzi_cadre").client
    assert signed_in.post("/api/sync/push", json={"records": [record]}).status_code == 403
    assert count(Visit) == 0


def test_future_device_time_is_flagged_and_not_trusted(world, login):
    client = login("chengzi_cadre")
    ahead = visit(world.h_chengzi.id, visited_at=device_time(timedelta(hours=3)))
    slightly = visit(world.h_shamao.id, visited_at=device_time(timedelta(minutes=2)))
    before = utcnow()
    [flagged] = results(client, [ahead])
    stored = fresh(Visit, flagged["id"])
    assert stored.device_time_suspect
    assert stored.visited_at > utcnow() + timedelta(hours=2)  # the phone's time is kept
    last = fresh(Household, world.h_chengzi.id).last_visit_at
    assert before <= last <= utcnow()  # but the receipt time counts
    [fine] = results(login("shamao_cadre"), [slightly])
    assert not fresh(Visit, fine["id"]).device_time_suspect


def test_last_visit_only_moves_forward(world, login):
    client = login("chengzi_cadre")
    newer = visit(world.h_chengzi.id, visited_at=device_time(-timedelta(days=1)))
    older = visit(world.h_chengzi.id, visited_at=device_time(-timedelta(days=9)))
    newer_id = results(client, [newer])[0]["id"]
    results(client, [older])
    assert fresh(Household, world.h_chengzi.id).last_visit_at == fresh(Visit, newer_id).visited_at


def test_crop_uuid_reused_by_another_visit_is_rejected(world, login):
    client = login("chengzi_cadre")
    shared = crop()
    results(client, [visit(world.h_chengzi.id, crops=[shared])])
    [answer] = results(client, [visit(world.h_chengzi.id, crops=[crop(), shared])])
    assert (answer["status"], answer["code"]) == ("rejected", 409)
    assert answer["fields"] == {"crops": {"1": {"uuid": ["Already used by another visit."]}}}
    assert count(Visit) == 1


# --- push: household edits ------------------------------------------------------------------


def test_edit_without_conflict_applies_and_is_audited(world, login):
    household = world.h_chengzi
    member_id = household.members[0].id
    version = household.version
    changes = {
        "phone": "13911112222",
        "members": {str(member_id): {"health": "大病", "labour_capacity": "弱劳动力"}},
    }
    [answer] = results(login("chengzi_cadre"), [edit(household.id, version, changes)])
    assert answer["status"] == "merged" and answer["conflicts"] == []
    assert answer["version"] == version + 1
    assert sorted(answer["applied"]) == sorted(
        ["phone", f"members.{member_id}.health", f"members.{member_id}.labour_capacity"]
    )
    stored = fresh(Household, household.id)
    assert stored.phone == "13911112222" and stored.version == version + 1
    assert (stored.members[0].health, stored.members[0].labour_capacity) == ("大病", "弱劳动力")
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert {(e.entity, e.actor_id) for e in events} == {
        ("household", world.users["chengzi_cadre"].id),
        ("member", world.users["chengzi_cadre"].id),
    }
    member_event = next(e for e in events if e.entity == "member")
    assert member_event.before == {"health": "健康", "labour_capacity": "普通劳动力"}


def test_edit_conflicting_with_a_server_change_keeps_both_values(world, login):
    household = world.h_chengzi
    member_id = household.members[0].id
    base = household.version
    supervisor = login("town_supervisor")
    assert (
        supervisor.patch(f"/api/households/{household.id}", json={"phone": "0533-1234567"})
    ).status_code == 200
    changes = {"phone": "13933334444", "members": {str(member_id): {"health": "残疾"}}}
    [answer] = results(login("chengzi_cadre"), [edit(household.id, base, changes)])
    assert answer["status"] == "merged"
    assert answer["conflicts"] == [
        {"field": "phone", "mine": "13933334444", "theirs": "0533-1234567"}
    ]
    assert answer["applied"] == [f"members.{member_id}.health"]
    stored = fresh(Household, household.id)
    assert stored.phone == "0533-1234567"  # the server's value stays in force
    assert stored.members[0].health == "残疾"
    conflict = db.session.scalar(select(DataConflict))
    assert (conflict.field, conflict.server_value, conflict.phone_value) == (
        "phone",
        {"value": "0533-1234567"},
        {"value": "13933334444"},
    )
    assert conflict.submitted_by_id == world.users["chengzi_cadre"].id
    assert conflict.resolved_at is None
    assert count(AuditEvent, AuditEvent.action == "conflict") == 1


def test_server_change_to_another_field_is_no_conflict(world, login):
    household = world.h_chengzi
    member_id = household.members[0].id
    base = household.version
    supervisor = login("town_supervisor")
    supervisor.patch(f"/api/members/{member_id}", json={"labour_capacity": "无"})
    supervisor.patch(f"/api/households/{household.id}", json={"address": "城子村3号"})
    changes = {"phone": "13955556666", "members": {str(member_id): {"health": "大病"}}}
    [answer] = results(login("chengzi_cadre"), [edit(household.id, base, changes)])
    assert answer["conflicts"] == []
    stored = fresh(Household, household.id)
    assert (stored.phone, stored.members[0].health, stored.members[0].labour_capacity) == (
        "13955556666",
        "大病",
        "无",
    )


def test_same_value_on_both_sides_is_no_conflict(world, login):
    household = world.h_chengzi
    base = household.version
    login("town_supervisor").patch(f"/api/households/{household.id}", json={"phone": "13977778888"})
    [answer] = results(login("chengzi_cadre"), [edit(household.id, base, {"phone": "13977778888"})])
    assert answer["conflicts"] == [] and answer["applied"] == []
    assert count(DataConflict) == 0


def test_the_phones_own_earlier_edit_is_no_conflict(world, login):
    household = world.h_chengzi
    base = household.version
    client = login("chengzi_cadre")
    first = edit(household.id, base, {"phone": "13900000011"})
    second = edit(household.id, base, {"phone": "13900000022"})
    answers = results(client, [first, second])
    assert [a["conflicts"] for a in answers] == [[], []]
    assert fresh(Household, household.id).phone == "13900000022"


def test_cadres_may_edit_only_phone_health_and_labour(world, login):
    household = world.h_chengzi
    member_id = str(household.members[0].id)
    base = household.version
    answer = results(
        login("chengzi_cadre"),
        [
            edit(household.id, base, {"klass": "A"}),
            edit(household.id, base, {"members": {member_id: {"name": "改名"}}}),
            edit(household.id, base, {"members": {"999999": {"health": "大病"}}}),
            edit(household.id, base + 5, {"phone": "13900000033"}),
        ],
    )
    assert [(a["status"], a["code"]) for a in answer] == [("rejected", 422)] * 4
    assert "klass" in answer[0]["fields"]["changes"]
    stored = fresh(Household, household.id)
    assert (stored.klass, stored.members[0].name, stored.phone) == ("B", "户主1", None)
    assert count(SyncRecord) == 0


def test_edit_of_a_foreign_household_is_rejected_with_404(world, login):
    other = world.h_other_town
    [answer] = results(login("chengzi_cadre"), [edit(other.id, 1, {"phone": "13900000044"})])
    assert (answer["status"], answer["code"]) == ("rejected", 404)
    assert fresh(Household, other.id).phone is None


# --- pull -----------------------------------------------------------------------------------


def pull(client, cursor=None, **params) -> dict:
    if cursor:
        params["cursor"] = cursor
    response = client.get("/api/sync/pull", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def pull_all(client, cursor=None, limit=200) -> tuple[list[dict], list[int], str]:
    households, removed = [], []
    while True:
        page = pull(client, cursor, limit=limit)
        households += page["households"]
        removed += page["removed"]
        cursor = page["cursor"]
        if not page["more"]:
            return households, removed, cursor


def test_first_pull_lists_the_scope_with_schedule_and_visits(world, login):
    client = login("chengzi_cadre")
    photo = new_uuid()
    pushed = visit(world.h_chengzi.id, crops=[crop()], photo_uuids=[photo])
    results(client, [pushed])
    page = pull(client)
    assert page["more"] is False and page["removed"] == []
    assert page["settings"] == {"rhythm_days": {"A": 90, "B": 60, "C": 30, "D": 30}}
    [household] = page["households"]
    assert household["id"] == world.h_chengzi.id and household["reports"] == []
    assert household["members"][0]["id_number"].count("*") > 0
    assert household["overdue"] is False and household["next_due_at"] is not None
    [pulled_visit] = household["visits"]
    assert pulled_visit["uuid"] == pushed["uuid"]
    assert pulled_visit["crops"][0]["uuid"] == pushed["data"]["crops"][0]["uuid"]
    assert pulled_visit["photos"] == [] and pulled_visit["photos_missing"] == [photo]
    assert household["crops"][0]["area_mu"] == "0.50"


def test_never_visited_household_is_overdue(world, login):
    [household] = pull(login("shamao_cadre"))["households"]
    assert household["overdue"] is True and household["next_due_at"] is None


def test_pull_shows_only_the_ten_latest_visits(world, login):
    client = login("chengzi_cadre")
    batch = [
        visit(world.h_chengzi.id, visited_at=device_time(-timedelta(days=30 - n)))
        for n in range(12)
    ]
    results(client, batch)
    [household] = pull(client)["households"]
    assert [v["uuid"] for v in household["visits"]] == [r["uuid"] for r in reversed(batch)][:10]


def test_pull_with_cursor_returns_only_changes(world, login):
    cadre = login("chengzi_cadre")
    _, _, cursor = pull_all(cadre)
    assert pull(cadre, cursor)["households"] == []
    supervisor = login("town_supervisor")
    supervisor.patch(f"/api/households/{world.h_chengzi.id}", json={"phone": "13812345678"})
    page = pull(cadre, cursor)
    assert [h["phone"] for h in page["households"]] == ["13812345678"]
    assert page["cursor"] != cursor
    assert pull(cadre, page["cursor"])["households"] == []
    supervisor.patch(f"/api/members/{world.h_chengzi.members[0].id}", json={"health": "残疾"})
    [changed] = pull(cadre, page["cursor"])["households"]
    assert changed["members"][0]["health"] == "残疾"


def test_pushed_visit_and_photo_show_in_the_next_pull(world, login):
    cadre = login("chengzi_cadre")
    _, _, cursor = pull_all(cadre)
    results(cadre, [visit(world.h_chengzi.id)])
    page = pull(cadre, cursor)
    assert [h["id"] for h in page["households"]] == [world.h_chengzi.id]
    assert len(page["households"][0]["visits"]) == 1


def test_unassigning_shows_as_removed(world, login):
    cadre = login("chengzi_cadre")
    _, _, cursor = pull_all(cadre)
    supervisor = login("town_supervisor")
    cadre_id = world.users["chengzi_cadre"].id
    household_id = world.h_chengzi.id
    response = supervisor.delete(f"/api/households/{household_id}/assignments/{cadre_id}")
    assert response.status_code == 200
    page = pull(cadre, cursor)
    assert page["households"] == [] and page["removed"] == [household_id]
    assert pull(cadre)["removed"] == [household_id]  # a fresh pull drops it too
    supervisor.post(f"/api/households/{household_id}/assignments", json={"cadre_id": cadre_id})
    again = pull(cadre, page["cursor"])
    assert [h["id"] for h in again["households"]] == [household_id] and again["removed"] == []


def test_pull_pages_by_keyset(world, login):
    cadre = world.users["chengzi_cadre"]
    for n in range(5):
        household = Household(
            code=f"P{n:03d}", village=world.chengzi, head_name=f"户{n}", klass="C"
        )
        db.session.add_all([household, Assignment(household=household, cadre=cadre)])
    db.session.commit()
    client = login("chengzi_cadre")
    pages = []
    cursor = None
    while True:
        page = pull(client, cursor, limit=2)
        pages.append([h["id"] for h in page["households"]])
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert [len(p) for p in pages] == [2, 2, 2]
    assert len({i for p in pages for i in p}) == 6
    assert pull(client, cursor)["households"] == []


def test_supervisor_pulls_the_town(world, login):
    households, removed, _ = pull_all(login("town_supervisor"))
    assert {h["id"] for h in households} == {world.h_chengzi.id, world.h_shamao.id}
    assert removed == []


@pytest.mark.parametrize(
    "cursor",
    ["garbage!", "c2VxOng", "c2VxOjk5OTk5OTk", "c2VxOjk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"],
)
def test_bad_or_stale_cursor_is_400(world, login, cursor):
    response = login("chengzi_cadre").get("/api/sync/pull", query_string={"cursor": cursor})
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_cursor"


def test_sync_endpoints_are_in_the_openapi_document(app, client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"/api/sync/push", "/api/sync/pull", "/api/sync/photos/{photo_uuid}"} <= set(paths)
    assert {"/api/photos/{photo_uuid}", "/api/photos/{photo_uuid}/thumb"} <= set(paths)
    schemas = client.get("/api/openapi.json").get_json()["components"]["schemas"]
    assert {"PushResponse", "PullResponse", "VisitData", "HouseholdEditData"} <= set(schemas)
