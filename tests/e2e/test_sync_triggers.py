"""Each moment the outbox is flushed, driven alone: a record queued without any trigger of its
own waits until `online`, `visibilitychange`, the timer, opening the app, or Background Sync
sends it. The timer's period comes from localStorage (zoufang.syncEveryMs), so a test can make
it long (only the trigger under test can send) or short (the timer is the trigger)."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import server_counts, wait_for_server

pytestmark = pytest.mark.e2e

HOUR_MS = 3_600_000

# Queue one visit the way the visit form does, but without the form's own flush and Background
# Sync registration: nothing but the trigger under test may send it.
QUEUE_ONE = """async (notes) => {
  const app = document.querySelector('script[type=module]').src;
  const shell = (name) => import(app.replace('app.js', name));
  const outbox = await shell('outbox.js');
  const { getMeta } = await shell('store.js');
  const { isoWithOffset, uuid } = await shell('util.js');
  const session = await getMeta('session');
  const householdId = (await (await shell('store.js')).getAll('households'))[0].id;
  await outbox.queueVisit({
    visitUuid: uuid(), householdId, userId: session.user.id, photos: [],
    data: { household_id: householdId, visited_at: isoWithOffset(), location: null,
            situation: {}, sudden_event: null, notes, needs: null, follow_up: null,
            crops: [], photo_uuids: [], report_id: null },
  });
}"""

# What the browser does when the cadre switches away from the app and back. Playwright keeps
# every page visible (microsoft/playwright#2286, #3570), so the state is set and the event fired
# here, as the browser would.
SET_VISIBILITY = """(state) => {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => state === 'hidden' });
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def sync_every(phone, ms: int) -> None:
    phone.context.add_init_script(f"localStorage.setItem('zoufang.syncEveryMs', '{ms}')")


def settled(phone) -> None:
    """Until the sign-in flush is over and nothing waits."""
    expect(phone.page.locator("#sync-pill.ok")).to_be_visible()


def queue_one(phone, notes: str) -> None:
    phone.page.evaluate(QUEUE_ONE, notes)
    expect(phone.page.locator("#sync-pill")).to_contain_text("1 条待上传")


def test_coming_online_sends_a_waiting_record(phone):
    sync_every(phone, HOUR_MS)
    phone.sign_in()
    settled(phone)
    phone.offline()
    queue_one(phone, "联网即发")
    expect(phone.page.locator("#sync-pill")).to_contain_text("离线")
    assert server_counts() == (0, 0)
    phone.offline(False)  # the browser fires "online"
    wait_for_server(phone, visits=1, photos=0)
    expect(phone.page.locator("#sync-pill")).to_have_text("已同步")


def test_the_app_becoming_visible_sends_a_waiting_record(phone):
    sync_every(phone, HOUR_MS)
    phone.sign_in()
    settled(phone)
    phone.page.evaluate(SET_VISIBILITY, "hidden")  # the cadre switches to WeChat
    queue_one(phone, "切回即发")
    assert server_counts() == (0, 0)
    phone.page.evaluate(SET_VISIBILITY, "visible")  # ...and back to the app
    wait_for_server(phone, visits=1, photos=0)


def test_the_timer_sends_a_waiting_record(phone):
    sync_every(phone, 1500)
    phone.sign_in()
    settled(phone)
    queue_one(phone, "定时发送")
    wait_for_server(phone, visits=1, photos=0)
    expect(phone.page.locator("#sync-pill")).to_have_text("已同步")


def test_the_timer_waits_while_the_app_is_hidden(phone):
    sync_every(phone, 1000)
    phone.sign_in()
    settled(phone)
    phone.page.evaluate(SET_VISIBILITY, "hidden")
    queue_one(phone, "后台不发")
    phone.page.wait_for_timeout(3500)  # three ticks pass in the background
    assert server_counts() == (0, 0)
    phone.page.evaluate(SET_VISIBILITY, "visible")
    wait_for_server(phone, visits=1, photos=0)


def test_opening_the_app_sends_what_waited(phone):
    sync_every(phone, HOUR_MS)
    phone.sign_in()
    settled(phone)
    phone.offline()
    queue_one(phone, "打开即发")
    phone.close()
    phone.open()  # online again, a cold start
    assert server_counts() == (0, 0)
    sync_every(phone, HOUR_MS)
    phone.goto()
    wait_for_server(phone, visits=1, photos=0)


def test_background_sync_sends_with_no_page_open(phone):
    """The worker alone: the app is closed, the browser starts online and fires the pending
    sync registration; no page of the app is ever opened."""
    phone.sign_in()
    phone.wait_for_worker()
    settled(phone)
    phone.offline()
    queue_one(phone, "后台同步")
    phone.page.evaluate(
        "navigator.serviceWorker.ready.then((r) => r.sync.register('zoufang-flush'))"
    )
    phone.close()
    phone.open()
    assert phone.page.url == "about:blank"
    wait_for_server(phone, visits=1, photos=0, timeout=60)
    assert phone.page.url == "about:blank"
