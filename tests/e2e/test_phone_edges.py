"""The cadre's rough edges, tried as a careless cadre would: the back button after saving, a
photo the server would refuse, a refused visit's photos, the "saved" message, the waiting
list and the header, crops not yet sent, the browser's own error words, and a browser that
cannot keep the app offline."""

import json

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server import create_app
from server.extensions import db
from server.models import Photo, Visit
from tests.e2e.conftest import wait_for_server

pytestmark = pytest.mark.e2e

HEAD_1 = "户主1"
PUSH = "**/api/sync/push"
TOO_BIG = {"crop": "tobacco", "area_mu": "600000"}  # the server takes at most 100000 mu
OUTBOX = """async () => {
  const app = document.querySelector('script[type=module]').src;
  const store = await import(app.replace('app.js', 'store.js'));
  return [await store.getAll('outbox'), await store.getAll('photos')];
}"""
# Visits queued the way the form queues them, at the given times, in the given order.
QUEUE_AT = """async (times) => {
  const app = document.querySelector('script[type=module]').src;
  const outbox = await import(app.replace('app.js', 'outbox.js'));
  const { getAll, getMeta } = await import(app.replace('app.js', 'store.js'));
  const { uuid } = await import(app.replace('app.js', 'util.js'));
  const session = await getMeta('session');
  const householdId = (await getAll('households')).find((h) => h.head_name === '户主1').id;
  for (const at of times) {
    await outbox.queueVisit({
      visitUuid: uuid(), householdId, userId: session.user.id, photos: [],
      data: { household_id: householdId, visited_at: at, location: null, situation: {},
              sudden_event: null, notes: at, needs: null, follow_up: null, crops: [],
              photo_uuids: [], report_id: null },
    });
  }
}"""
# Every visible control that the "saved" message covers, even in part.
COVERED = """() => {
  const box = document.getElementById('toast').getBoundingClientRect();
  const overlaps = (r) => r.width && r.height && r.left < box.right && box.left < r.right
    && r.top < box.bottom && box.top < r.bottom;
  return [...document.querySelectorAll('button, a, input, select, textarea, label')]
    .filter((el) => el.id !== 'toast' && overlaps(el.getBoundingClientRect()))
    .map((el) => el.outerHTML.slice(0, 80));
}"""


def _visits() -> list[Visit]:
    db.session.expire_all()
    return db.session.scalars(select(Visit).order_by(Visit.id)).all()


def test_back_after_saving_returns_to_the_household_and_stores_nothing_twice(phone):
    phone.sign_in()
    phone.record_visit(HEAD_1, notes="回退键")
    wait_for_server(phone, visits=1, photos=0)

    phone.page.go_back()  # Android's back button
    expect(phone.page.locator(".household-head h1", has_text=HEAD_1)).to_be_visible()
    expect(phone.page.locator("form.visit-form")).to_have_count(0)
    phone.page.go_back()
    expect(phone.page.locator("ul.cards .card").first).to_be_visible()
    assert [v.notes for v in _visits()] == ["回退键"]


def test_a_photo_past_the_servers_limit_is_refused_when_picked(phone, live_server, camera_photos):
    # The server takes photos of at most 20 KB; the phone reads the limit from the server.
    config = dict(live_server.app.config) | {"PHOTO_MAX_BYTES": 20_000}
    live_server.deploy(create_app(config))
    phone.sign_in()
    phone.open_household(HEAD_1)
    phone.page.click("a.button.primary")
    form = phone.page.locator("form.visit-form")
    phone.page.set_input_files("#camera", [str(camera_photos[0])])
    expect(form).to_contain_text("这张照片压缩后仍超过 20 KB，服务器不会接收，请重拍。")
    expect(form.locator(".photos figure")).to_have_count(0)
    form.locator("textarea[name=notes]").fill("照片太大")
    form.locator("button[type=submit]").click()
    expect(phone.page.locator(".household-head h1", has_text=HEAD_1)).to_be_visible()

    wait_for_server(phone, visits=1, photos=0)
    records, photos = phone.page.evaluate(OUTBOX)
    assert records == [] and photos == []  # sent, and nothing left that can never go


def test_a_refused_visit_lets_the_cadre_take_photos_back(phone, camera_photos):
    phone.sign_in()
    phone.offline()
    phone.record_visit(HEAD_1, notes="两张照片", photos=camera_photos, crops=[TOO_BIG])
    [record], photos = phone.page.evaluate(OUTBOX)
    assert len(photos) == 2
    phone.offline(False)
    phone.sync_now()
    expect(phone.page.locator(".record.rejected")).to_have_count(1)

    phone.page.click(".record.rejected a.button.primary")  # 修改
    form = phone.page.locator("form.visit-form")
    expect(form.locator(".photos figure")).to_have_count(2)
    form.locator(".photos figure button.remove").first.click()
    expect(form.locator(".photos figure")).to_have_count(1)
    form.locator("fieldset.crop input[name=area_mu]").fill("2.5")
    form.locator("button[type=submit]").click()
    expect(phone.page.locator(".household-head h1", has_text=HEAD_1)).to_be_visible()

    wait_for_server(phone, visits=1, photos=1)
    [visit] = _visits()
    kept = [p for p in photos if p["uuid"] in visit.photo_uuids]
    assert len(visit.photo_uuids) == 1 and len(kept) == 1
    stored = db.session.scalars(select(Photo.uuid)).all()
    assert [str(u) for u in stored] == [kept[0]["uuid"]]
    left = phone.page.evaluate(OUTBOX)[1]  # the photo taken back is gone from the phone too
    assert [p["uuid"] for p in left] == [kept[0]["uuid"]]


def test_the_saved_message_covers_no_button_and_stays_until_the_cadre_moves_on(phone):
    phone.sign_in()
    phone.offline()
    phone.record_visit(HEAD_1, notes="提示")
    toast = phone.page.locator("#toast")
    expect(toast).to_contain_text("已保存")
    assert phone.page.evaluate(COVERED) == []
    phone.page.wait_for_timeout(4500)  # no timer takes it away under a finger
    expect(toast).to_be_visible()
    phone.page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert phone.page.evaluate(COVERED) == []
    phone.goto("#/")
    expect(toast).to_be_hidden()


def test_waiting_list_in_time_order_and_header_counts_waiting_and_refused(phone):
    phone.sign_in()
    phone.record_visit(HEAD_1, notes="退回", crops=[TOO_BIG])
    expect(phone.page.locator("#sync-pill")).to_have_text("1 条需处理")
    phone.offline()
    times = [f"2026-11-{day:02d}T09:00:00+08:00" for day in (5, 1, 9, 3, 7, 2)]
    phone.page.evaluate(QUEUE_AT, times)
    phone.goto("#/sync")
    expect(phone.page.locator("#sync-pill")).to_have_text("离线 · 6 条待上传 · 1 条需处理")
    waiting = phone.page.locator("ul.records").nth(1).locator(".record.waiting .muted.small")
    expect(waiting).to_have_count(6)
    shown = waiting.all_inner_texts()
    assert shown == [f"走访于 11/{d:02d} 09:00" for d in sorted((5, 1, 9, 3, 7, 2))], shown


def test_crops_of_a_visit_not_yet_sent_show_on_the_household(phone):
    phone.sign_in()
    phone.offline()
    phone.record_visit(HEAD_1, crops=[{"crop": "tobacco", "area_mu": "2.5"}])
    crops = phone.page.locator("section.block", has_text="种植情况")
    pending = crops.locator("li.pending")
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text("黄烟 2.5 亩")
    expect(pending.locator(".chip.waiting")).to_have_text("待上传")

    phone.offline(False)
    phone.sync_now()
    wait_for_server(phone, visits=1, photos=0)
    phone.open_household(HEAD_1)
    expect(crops.locator("li.pending")).to_have_count(0, timeout=15_000)
    expect(crops).to_contain_text("黄烟 2.5 亩")


def test_the_browsers_own_network_words_never_show(phone):
    phone.sign_in()
    phone.context.route(PUSH, lambda route: route.abort())  # "Failed to fetch"
    phone.record_visit(HEAD_1, notes="网络断了")
    phone.goto("#/sync")
    status = phone.page.locator("p.notice.bad").first
    expect(status).to_contain_text("同步未完成：连不上服务器。")
    expect(phone.page.locator("body")).not_to_contain_text("fetch")


def test_a_code_the_phone_does_not_know_gets_the_generic_sentence(phone):
    def refuse(route):
        records = json.loads(route.request.post_data)["records"]
        body = {
            "results": [
                {
                    "uuid": r["uuid"],
                    "status": "rejected",
                    "code": 422,
                    "error": "validation_failed",
                    "message": "Some fields are not valid.",
                    "fields": {"notes": ["Something new."], "needs": ["Too long."]},
                    "codes": {"notes": ["brand_new_code"], "needs": ["too_long"]},
                }
                for r in records
            ],
            "server_time": "2026-11-27T05:00:00+00:00",
        }
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    phone.sign_in()
    phone.context.route(PUSH, refuse)
    phone.record_visit(HEAD_1, notes="新代码")
    phone.goto("#/sync")
    lines = phone.page.locator(".record.rejected .rejection li")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text("备注：不符合要求，请检查")
    expect(lines.nth(0).locator(".detail")).to_have_text("Something new.")
    expect(lines.nth(1)).to_contain_text("：太长了，请删减")


def test_a_browser_that_cannot_keep_the_app_offline_says_so_on_screen(phone):
    phone.context.add_init_script("delete Navigator.prototype.serviceWorker;")
    phone.goto()
    warning = phone.page.locator("#no-offline")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("这个浏览器不能离线使用走访")
    expect(phone.page.locator("section.signin")).to_be_visible()  # online, it still works


def test_a_browser_that_refuses_storage_says_so_instead_of_loading_forever(phone):
    phone.context.add_init_script("delete window.indexedDB;")
    phone.goto()
    expect(phone.page.locator("#view .notice.bad")).to_contain_text("不允许在手机上保存数据")
