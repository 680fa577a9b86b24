"""The cadre's phone in real headless Chromium: visits recorded with no network arrive exactly
once, with their photos and crops, through reloads, cold starts, lost answers, server errors,
rejections, expired sessions and a new app version."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import (
    CropRecord,
    DataConflict,
    DeviceStatus,
    Household,
    Member,
    Photo,
    Visit,
)
from tests.e2e.conftest import change_shell_file, server_counts, wait_for_server, wait_until

pytestmark = pytest.mark.e2e

HEAD_1, HEAD_2 = "户主1", "户主2"  # the Chengzi and Shamao households of the world fixture
PUSH = "**/api/sync/push"
QUEUE_EMPTY = {"waiting-records": 0, "waiting-photos": 0, "attention": 0}


def _visits() -> list[Visit]:
    db.session.expire_all()
    return db.session.scalars(select(Visit).order_by(Visit.id)).all()


def test_three_offline_visits_survive_reload_and_cold_start(
    phone, live_server, world, camera_photos
):
    phone.sign_in()
    phone.wait_for_worker()
    phone.offline()

    phone.record_visit(HEAD_1, notes="第一次走访", photos=[camera_photos[0]])
    phone.record_visit(HEAD_2, notes="老人住院", photos=[camera_photos[1]], worse=["health"])
    kiwi = {"crop": "kiwifruit", "area_mu": "0.5", "plants": 40, "income_yuan": "2000"}
    phone.record_visit(HEAD_1, notes="猕猴桃挂果", crops=[kiwi])
    expect(phone.page.locator(".visit .chip.waiting")).to_have_count(2)

    phone.page.reload()  # offline: the shell comes from the service worker's cache
    assert phone.sync_state() == {"waiting-records": 3, "waiting-photos": 2, "attention": 0}

    phone.close()  # the browser is gone; the same profile starts cold, still offline
    phone.open(offline=True)
    phone.goto()
    expect(phone.page.locator(".card", has_text=HEAD_2)).to_be_visible()
    assert phone.sync_state() == {"waiting-records": 3, "waiting-photos": 2, "attention": 0}
    assert server_counts() == (0, 0)

    uploads = []

    def measure_upload(route):
        uploads.append(len(route.request.post_data_buffer))
        route.continue_()

    phone.context.route("**/api/sync/photos/*", measure_upload)
    phone.offline(False)  # the "online" event flushes the outbox
    wait_for_server(phone, visits=3, photos=2)
    expect(phone.page.locator("[data-testid=waiting-photos]")).to_have_text("0")
    phone.expect_sync_state(QUEUE_EMPTY)

    visits = {v.notes: v for v in _visits()}
    assert visits["第一次走访"].household_id == world.h_chengzi.id
    assert visits["老人住院"].household_id == world.h_shamao.id
    assert visits["老人住院"].situation["health"] == "worse"
    assert visits["猕猴桃挂果"].household_id == world.h_chengzi.id
    assert {v.cadre_id for v in visits.values()} == {world.users["chengzi_cadre"].id}
    crops = db.session.scalars(select(CropRecord)).all()
    assert [(c.crop, c.area_mu, c.plants, c.expected_income_fen) for c in crops] == [
        ("kiwifruit", Decimal("0.50"), 40, 200000)
    ]
    assert crops[0].visit_id == visits["猕猴桃挂果"].id
    assert crops[0].household_id == world.h_chengzi.id
    photos = db.session.scalars(select(Photo)).all()
    assert {p.visit_id for p in photos} == {visits["第一次走访"].id, visits["老人住院"].id}
    assert all(max(p.width, p.height) <= 1600 for p in photos)
    assert len(uploads) == 2 and max(uploads) < 400_000  # 12 MP shrunk on the phone
    device = db.session.scalars(select(DeviceStatus)).one()
    assert device.app_version == live_server.app.extensions["app_shell"].version


def test_a_lost_acknowledgement_is_replayed_without_a_duplicate(phone):
    phone.sign_in()
    lost = []

    def store_then_drop_the_answer(route):
        if lost:
            route.continue_()
            return
        lost.append(route.request.post_data_json["records"][0]["uuid"])
        try:
            route.fetch()  # the server stores the visit...
        finally:
            route.abort()  # ...and the phone never hears back

    phone.context.route(PUSH, store_then_drop_the_answer)
    phone.record_visit(HEAD_1, notes="回执丢失")
    wait_for_server(phone, visits=1, photos=0)
    assert lost == [_visits()[0].uuid]
    assert phone.sync_state()["waiting-records"] == 1  # not acknowledged, so still queued

    phone.sync_now()  # the replay answers "duplicate": acknowledged, no second row
    expect(phone.page.locator("[data-testid=waiting-records]")).to_have_text("0")
    expect(phone.page.locator(".record .chip.sent")).to_have_count(1)
    assert server_counts() == (1, 0)


def test_a_server_error_keeps_the_batch_until_it_arrives(phone):
    phone.sign_in()
    phone.offline()
    for n in range(3):
        phone.record_visit(HEAD_1 if n % 2 else HEAD_2, notes=f"批次 {n}")
    failures = []

    def fail_first_push(route):
        if failures:
            route.continue_()
            return
        failures.append(route.request.post_data_json["records"])
        route.fulfill(status=500, json={"error": "internal_server_error", "message": "boom"})

    phone.context.route(PUSH, fail_first_push)
    phone.offline(False)
    # Nothing acknowledged by the 500; the backoff timer sends the batch again by itself.
    wait_for_server(phone, visits=3, photos=0, timeout=40)
    assert len(failures) == 1 and len(failures[0]) == 3
    phone.expect_sync_state(QUEUE_EMPTY)


def test_a_rejected_record_is_quarantined_shown_fixed_and_sent(phone):
    phone.sign_in()
    typo = {"crop": "tobacco", "area_mu": "600000", "income_yuan": "5000"}  # meant 6 mu
    phone.record_visit(HEAD_1, notes="黄烟", crops=[typo])
    expect(phone.page.locator(".visit .chip.rejected")).to_be_visible()
    assert phone.sync_state() == {"waiting-records": 0, "waiting-photos": 0, "attention": 1}
    record = phone.page.locator(".record.rejected")
    expect(record).to_contain_text("第 1 种作物 · 面积（亩）")
    assert server_counts() == (0, 0)

    record.locator("a.button", has_text="修改").click()
    expect(phone.page.locator(".rejection")).to_contain_text("面积（亩）")
    phone.page.locator("input[name=area_mu]").fill("6")
    phone.page.locator("form.visit-form button[type=submit]").click()

    wait_for_server(phone, visits=1, photos=0)
    phone.expect_sync_state(QUEUE_EMPTY)
    crop = db.session.scalars(select(CropRecord)).one()
    assert (crop.crop, crop.area_mu, crop.expected_income_fen) == (
        "tobacco",
        Decimal("6.00"),
        500000,
    )


def test_a_session_that_ends_offline_loses_nothing(phone):
    phone.sign_in()
    phone.offline()
    phone.record_visit(HEAD_1, notes="会话过期")
    phone.context.clear_cookies()  # the session ended while the phone was out of reach
    phone.offline(False)
    banner = phone.page.locator("#banner")
    expect(banner).to_be_visible()
    assert phone.sync_state()["waiting-records"] == 1
    assert server_counts() == (0, 0)

    banner.locator("a").click()
    phone.page.fill("input[name=password]", "correct horse battery")
    phone.page.click("button[type=submit]")
    wait_for_server(phone, visits=1, photos=0)
    expect(banner).to_be_hidden()


def test_a_new_version_deployed_while_records_wait(phone, live_server, shell_dir):
    phone.sign_in()
    phone.wait_for_worker()
    old = phone.page.locator("meta[name=app-version]").get_attribute("content")
    phone.offline()
    phone.record_visit(HEAD_1, notes="更新前一")
    phone.record_visit(HEAD_2, notes="更新前二")
    phone.page.evaluate("caches.open('not-ours')")  # another app's cache on this origin
    phone.context.route(PUSH, lambda route: route.abort())  # a network too weak to push
    phone.offline(False)

    change_shell_file(shell_dir)
    live_server.redeploy()
    phone.page.reload()
    update = phone.page.locator("#update")
    expect(update).to_be_visible(timeout=30_000)  # offered, not forced on the cadre
    assert phone.page.locator("meta[name=app-version]").get_attribute("content") == old
    assert phone.sync_state()["waiting-records"] == 2

    phone.page.locator("#update").click()  # reloads into the new version
    expect(phone.page.locator("meta[name=app-version]")).not_to_have_attribute("content", old)
    new = phone.page.locator("meta[name=app-version]").get_attribute("content")
    assert new == live_server.app.extensions["app_shell"].version
    caches = phone.page.evaluate("caches.keys()")
    assert [c for c in caches if c.startswith("zoufang-shell-")] == [f"zoufang-shell-{new}"]
    assert "not-ours" in caches  # only the app's own old shells are deleted
    assert phone.sync_state()["waiting-records"] == 2

    phone.context.unroute(PUSH)
    phone.sync_now()
    wait_for_server(phone, visits=2, photos=0)
    assert {v.notes for v in _visits()} == {"更新前一", "更新前二"}


def test_an_offline_household_edit_is_merged_and_a_conflict_kept(phone, world, login):
    phone.sign_in()
    phone.offline()
    phone.open_household(HEAD_1)
    phone.page.click("a.button[href^='#/edit/']")
    phone.page.fill("input[name=phone]", "13911112222")
    phone.page.locator("fieldset.member select[name=health]").select_option("大病")
    phone.page.locator("form.visit-form button[type=submit]").click()
    expect(phone.page.locator(".household-head h1", has_text=HEAD_1)).to_be_visible()
    expect(phone.page.locator("a.button[href^='tel:']")).to_contain_text("13911112222")
    expect(phone.page.locator(".notice .chip.waiting")).to_be_visible()

    # Meanwhile the office changes the same phone number.
    office = login("town_supervisor")
    answer = office.patch(f"/api/households/{world.h_chengzi.id}", json={"phone": "0533-5123456"})
    assert answer.status_code == 200

    phone.offline(False)
    conflicts = phone.page.locator(".record .notice")
    phone.goto("#/sync")
    expect(conflicts).to_be_visible()
    db.session.expire_all()
    conflict = db.session.scalars(select(DataConflict)).one()
    assert conflict.field == "phone" and conflict.household_id == world.h_chengzi.id
    assert db.session.get(Member, world.h_chengzi.members[0].id).health == "大病"
    assert db.session.get(Household, world.h_chengzi.id).phone == "0533-5123456"


def test_a_cursor_the_server_forgot_means_pulling_everything_again(phone):
    phone.sign_in()
    pulls = []

    def forget_cursor_once(route):
        pulls.append(route.request.url)
        if "cursor=" in route.request.url and len(pulls) == 1:
            route.fulfill(status=400, json={"error": "bad_cursor", "message": "Pull again."})
        else:
            route.continue_()

    phone.context.route("**/api/sync/pull?*", forget_cursor_once)
    phone.sync_now()
    wait_until(phone, lambda: len(pulls) >= 2)
    assert "cursor=" in pulls[0] and "cursor=" not in pulls[1]
    phone.goto("#/")
    expect(phone.page.locator(".card")).to_have_count(2)


def test_photos_shrink_on_browsers_without_resizing_decoders(phone, camera_photos):
    # Older WebViews: no createImageBitmap options, no OffscreenCanvas; <img> and a canvas do it.
    phone.context.add_init_script("delete window.createImageBitmap; delete window.OffscreenCanvas;")
    phone.sign_in()
    assert phone.page.evaluate("typeof createImageBitmap") == "undefined"
    phone.record_visit(HEAD_2, notes="旧手机", photos=[camera_photos[1]])
    wait_for_server(phone, visits=1, photos=1)
    photo = db.session.scalars(select(Photo)).one()
    assert (photo.width, photo.height) == (1600, 1200)


WAITING_THUMB = ".record.waiting .photo-line.waiting img"
THUMB_SHOWN = f"""(() => {{
  const img = document.querySelector('{WAITING_THUMB}');
  return Boolean(img) && img.src.startsWith('blob:') && img.complete && img.naturalWidth > 0;
}})()"""
# Each thumbnail put on the page from now on: was it already drawn when it went in?
WATCH_THUMBS = f"""() => {{
  window.thumbsInserted = [];
  new MutationObserver(() => {{
    for (const img of document.querySelectorAll('{WAITING_THUMB}')) {{
      if (img.dataset.seen) continue;
      img.dataset.seen = '1';
      window.thumbsInserted.push({{ src: img.src, drawn: img.complete && img.naturalWidth > 0 }});
    }}
  }}).observe(document.getElementById('view'), {{ childList: true, subtree: true }});
}}"""


def test_a_waiting_photo_shows_its_thumbnail_through_redraws(phone, camera_photos):
    phone.sign_in()
    phone.offline()
    phone.record_visit(HEAD_1, notes="带照片", photos=[camera_photos[0]])
    phone.goto("#/sync")
    expect(phone.page.locator("[data-testid=waiting-photos]")).to_have_text("1")
    expect(phone.page.locator(WAITING_THUMB)).to_have_count(1)
    phone.wait_for_js(THUMB_SHOWN)
    first = phone.page.locator(WAITING_THUMB).get_attribute("src")

    # The sync page redraws at every step of a flush; the thumbnail must not blink out.
    phone.page.evaluate(WATCH_THUMBS)
    phone.page.evaluate("new BroadcastChannel('zoufang').postMessage({ type: 'changed' })")
    phone.wait_for_js("window.thumbsInserted.length >= 1")
    assert phone.page.evaluate("window.thumbsInserted") == [{"src": first, "drawn": True}]
    phone.wait_for_js(THUMB_SHOWN)

    phone.page.reload()  # a fresh page reads the photo back from IndexedDB
    expect(phone.page.locator(WAITING_THUMB)).to_have_count(1)
    phone.wait_for_js(THUMB_SHOWN)


QUEUE_SIXTY = """async (householdId) => {
  const app = document.querySelector('script[type=module]').src;
  const shell = (name) => import(app.replace('app.js', name));
  const outbox = await shell('outbox.js');
  const { getMeta } = await shell('store.js');
  const { isoWithOffset, uuid } = await shell('util.js');
  const session = await getMeta('session');
  for (let n = 0; n < 60; n += 1) {
    await outbox.queueVisit({
      visitUuid: uuid(), householdId, userId: session.user.id, photos: [],
      data: { household_id: householdId, visited_at: isoWithOffset(), location: null,
              situation: {}, sudden_event: null, notes: `第 ${n} 条`, needs: null, follow_up: null,
              crops: [], photo_uuids: [], report_id: null },
    });
  }
}"""


def test_batches_of_fifty_and_a_500_on_the_second_one(phone, world):
    phone.sign_in()
    phone.offline()
    phone.page.evaluate(QUEUE_SIXTY, world.h_chengzi.id)
    batches = []

    def fail_second_push(route):
        batches.append(len(route.request.post_data_json["records"]))
        if len(batches) == 2:
            route.fulfill(status=500, json={"error": "internal_server_error", "message": "boom"})
        else:
            route.continue_()

    phone.context.route(PUSH, fail_second_push)
    phone.offline(False)
    wait_for_server(phone, visits=60, photos=0, timeout=40)
    assert batches == [50, 10, 10]  # the first batch landed; only the failed one went again
    phone.expect_sync_state(QUEUE_EMPTY)
