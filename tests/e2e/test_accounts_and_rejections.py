"""Signing out never loses a waiting record, and a record always goes under the cadre who made
it; refusals are explained in Chinese; a record whose UUID another record took is sent again as
a new one and lands exactly once."""

import uuid as uuidlib

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import CropRecord, Photo, Visit
from tests.e2e.conftest import server_counts, wait_for_server

pytestmark = pytest.mark.e2e

HEAD_1, HEAD_2 = "户主1", "户主2"
PUSH = "**/api/sync/push"
KIWI = {"crop": "kiwifruit", "area_mu": "0.5", "plants": 40, "income_yuan": "2000"}


def _visits() -> list[Visit]:
    db.session.expire_all()
    return db.session.scalars(select(Visit).order_by(Visit.id)).all()


def sign_out(phone, *, warning: str | None):
    phone.goto("#/sync")
    expect(phone.page.locator("section.account")).to_contain_text(phone.signed_in_as)
    phone.page.click("#sign-out")
    if warning is not None:
        expect(phone.page.locator("[data-testid=sign-out-warning]")).to_contain_text(warning)
        # Nothing covers the warning: not the "saved" toast of a moment ago, not the screen edge.
        expect(phone.page.locator("#toast")).to_be_hidden()
        expect(phone.page.locator("#sign-out-anyway")).to_be_in_viewport(ratio=1)
        phone.page.click("#sign-out-anyway")
    expect(phone.page.locator("section.signin")).to_be_visible()


def sign_in_as(phone, username: str):
    phone.sign_in(username)
    phone.signed_in_as = username


def test_signing_out_keeps_the_queue_for_the_same_cadre(phone, camera_photos):
    sign_in_as(phone, "chengzi_cadre")
    phone.offline()
    phone.record_visit(HEAD_1, notes="退出前记录", photos=[camera_photos[0]])
    sign_out(phone, warning="还有 1 条记录、1 张照片没有上传")
    waiting = phone.page.locator("[data-testid=waiting-for]")
    expect(waiting).to_have_text(
        "chengzi_cadre 还有 1 条记录、1 张照片保存在这部手机上，chengzi_cadre 登录后自动上传。"
    )
    phone.offline(False)  # online while signed out: nothing goes, nothing is lost
    phone.page.reload()
    expect(phone.page.locator("section.signin")).to_be_visible()
    expect(waiting).to_contain_text("1 条记录、1 张照片")
    assert server_counts() == (0, 0)

    sign_in_as(phone, "chengzi_cadre")
    wait_for_server(phone, visits=1, photos=1)
    assert _visits()[0].notes == "退出前记录"
    phone.goto("#/sync")
    expect(phone.page.locator("[data-testid=waiting-records]")).to_have_text("0")
    expect(phone.page.locator("[data-testid=waiting-photos]")).to_have_text("0")


def test_signing_out_online_ends_the_server_session(phone):
    sign_in_as(phone, "chengzi_cadre")
    expect(phone.page.locator("#sync-pill.ok")).to_be_visible()
    sign_out(phone, warning=None)  # nothing waits: no warning
    status = phone.page.evaluate("fetch('/api/me').then((r) => r.status)")
    assert status == 401


def test_another_cadre_never_sends_the_first_cadres_records(phone, world):
    sign_in_as(phone, "chengzi_cadre")
    phone.offline()
    phone.record_visit(HEAD_1, notes="甲的走访")
    sign_out(phone, warning="还有 1 条记录、0 张照片没有上传")
    phone.offline(False)

    sign_in_as(phone, "shamao_cadre")  # another cadre, same phone
    expect(phone.page.locator(".card")).to_have_count(1)  # only their own household
    expect(phone.page.locator(".card", has_text=HEAD_2)).to_be_visible()
    phone.record_visit(HEAD_2, notes="乙的走访")
    wait_for_server(phone, visits=1, photos=0)
    phone.goto("#/sync")
    expect(phone.page.locator("[data-testid=waiting-for]")).to_contain_text(
        "chengzi_cadre 还有 1 条记录"
    )
    expect(phone.page.locator("[data-testid=waiting-records]")).to_have_text("0")
    phone.sync_now()
    expect(phone.page.locator("#sync-pill")).to_have_text("已同步")
    visits = _visits()
    assert [(v.notes, v.cadre_id) for v in visits] == [("乙的走访", world.users["shamao_cadre"].id)]

    sign_out(phone, warning=None)
    expect(phone.page.locator("[data-testid=waiting-for]")).to_contain_text("chengzi_cadre")
    sign_in_as(phone, "chengzi_cadre")  # the first cadre again: their record goes now
    wait_for_server(phone, visits=2, photos=0)
    by_notes = {v.notes: v.cadre_id for v in _visits()}
    assert by_notes == {
        "乙的走访": world.users["shamao_cadre"].id,
        "甲的走访": world.users["chengzi_cadre"].id,
    }
    phone.goto("#/sync")
    expect(phone.page.locator("[data-testid=waiting-for]")).to_have_count(0)


def test_a_refusal_is_explained_in_chinese_with_the_server_words_kept(phone):
    phone.sign_in()
    typo = {"crop": "tobacco", "area_mu": "600000"}  # the server takes at most 100000 mu
    phone.record_visit(HEAD_1, notes="面积太大", crops=[typo])
    phone.goto("#/sync")
    notice = phone.page.locator(".record.rejected .rejection")
    expect(notice).to_contain_text("有些内容不符合要求")
    line = notice.locator("li")
    expect(line).to_have_count(1)
    # Said from the server's stable code (too_large), in the phone's own words.
    expect(line).to_contain_text("第 1 种作物 · 面积（亩）：数值太大，请检查")
    # The server's own (English) words stay as the detail, for a supervisor on the phone.
    expect(line.locator(".detail")).to_have_text(
        "Must be greater than or equal to 0 and less than or equal to 100000."
    )
    assert server_counts() == (0, 0)

    phone.page.click("#lang-toggle")  # the English UI says it in English
    expect(line).to_contain_text("Crop 1 · Area (mu): Too large; please check")


def test_a_taken_uuid_is_sent_again_as_a_new_record_exactly_once(
    phone, world, login, camera_photos
):
    phone.sign_in()
    phone.offline()
    phone.record_visit(HEAD_1, notes="编号被占", photos=[camera_photos[0]], crops=[KIWI])
    queued = phone.page.evaluate(
        "import(document.querySelector('script[type=module]').src.replace('app.js', 'store.js'))"
        ".then(async (s) => [await s.getAll('outbox'), await s.getAll('photos')])"
    )
    [record], [photo] = queued
    old_crop = record["data"]["crops"][0]["uuid"]

    # Another cadre's visit already holds this visit's UUID (a copied phone, a restored backup).
    other = login("shamao_cadre")
    answer = other.post(
        "/api/sync/push",
        json={
            "records": [
                {
                    "uuid": record["uuid"],
                    "kind": "visit",
                    "data": {
                        "household_id": world.h_shamao.id,
                        "visited_at": "2026-11-01T10:00:00+08:00",
                        "notes": "别人的走访",
                    },
                }
            ]
        },
    )
    assert answer.get_json()["results"][0]["status"] == "created"

    phone.offline(False)
    phone.goto("#/sync")
    rejected = phone.page.locator(".record.rejected")
    expect(rejected.locator(".rejection")).to_contain_text("请作为新记录重新提交")
    assert server_counts() == (1, 0)

    rejected.locator("button.resend-new").click()
    wait_for_server(phone, visits=2, photos=1)
    expect(phone.page.locator("[data-testid=waiting-records]")).to_have_text("0")
    expect(phone.page.locator("[data-testid=waiting-photos]")).to_have_text("0")
    expect(phone.page.locator("[data-testid=attention]")).to_have_text("0")

    mine = [v for v in _visits() if v.cadre_id == world.users["chengzi_cadre"].id]
    assert [v.notes for v in mine] == ["编号被占"]
    visit = mine[0]
    assert visit.uuid != record["uuid"]
    crop = db.session.scalars(select(CropRecord).where(CropRecord.visit_id == visit.id)).one()
    assert crop.uuid != old_crop and crop.area_mu == 0.5
    stored = db.session.scalars(select(Photo)).one()
    assert stored.visit_id == visit.id and stored.uuid != photo["uuid"]
    assert [str(u) for u in visit.photo_uuids] == [stored.uuid]
    assert uuidlib.UUID(visit.uuid).version == 4
    theirs = [v for v in _visits() if v.cadre_id == world.users["shamao_cadre"].id]
    assert [(v.uuid, v.notes) for v in theirs] == [(record["uuid"], "别人的走访")]
