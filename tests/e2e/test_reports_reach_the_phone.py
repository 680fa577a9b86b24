"""A family's self-report (自主申报) from the door card's QR page reaches the cadre's phone in
real headless Chromium, under the household and on the to-do list; the cadre answers it with
a visit, and then the family's page shows it acted on (已处理) and the office lists drop it."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import NeedsAction, SelfReport
from server.selfreport import tokens
from tests.conftest import PASSWORD
from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.conftest import wait_until

pytestmark = pytest.mark.e2e

WORDS = "父亲摔伤了腿，想请帮扶责任人来看看"


def _family_sends_a_report(browser, base_url: str, token: str) -> str:
    page = browser.new_page(
        viewport={"width": 360, "height": 640}, java_script_enabled=False, locale="zh-CN"
    )
    page.goto(f"{base_url}/r/{token}")
    page.check("input[name=category][value=illness]")
    page.fill("textarea[name=description]", WORDS)
    page.check("input[name=urgency][value=urgent]")
    with page.expect_navigation():
        page.click("button[type=submit]")
    reference = page.inner_text(".ref")
    page.close()
    return reference


def _family_status(browser, base_url: str, token: str, reference: str) -> str:
    page = browser.new_page(java_script_enabled=False, locale="zh-CN")
    page.goto(f"{base_url}/r/{token}")
    status = page.locator("tr", has_text=reference).locator("td.status").inner_text()
    page.close()
    return status


def _office_page(browser, base_url: str, path: str) -> str:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", "town_supervisor")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto(f"{base_url}{path}")
    text = page.inner_text("body")
    context.close()
    return text


def test_a_familys_report_reaches_the_phone_and_a_visit_closes_it(
    phone, live_server, world, playwright
):
    token = tokens.issue(world.h_chengzi, None, for_card=True)
    db.session.commit()
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    try:
        reference = _family_sends_a_report(browser, live_server.url, token)
        assert _family_status(browser, live_server.url, token, reference) == "收到"
        assert reference in _office_page(browser, live_server.url, "/office/reports")

        phone.sign_in()
        page = phone.page
        todo = page.locator("a.todo-link")
        expect(todo).to_contain_text("1 条自主申报")
        todo.click()
        item = page.locator("li.report", has_text=WORDS)
        expect(item).to_contain_text("生病或受伤")
        expect(item).to_contain_text("紧急")
        expect(item).to_contain_text("前走访核实")  # the deadline, one working day

        item.locator("a.report-household").click()
        expect(page.locator("section.block li.report", has_text=WORDS)).to_be_visible()
        page.click("a.button.primary")
        form = page.locator("form.visit-form")
        form.locator("input[name=report_ids]").check(force=True)
        form.locator("textarea[name=notes]").fill("上门核实，已联系卫生院")
        form.locator("button[type=submit]").click()
        expect(page.locator(".household-head h1")).to_be_visible()

        def closed():
            """the report is closed on the server"""
            db.session.expire_all()
            report = db.session.scalar(select(SelfReport))
            return report.handled_at is not None and report.visit_id is not None

        wait_until(phone, closed)
        item = db.session.scalar(select(NeedsAction).where(NeedsAction.source == "report"))
        assert item.handled_at is not None

        assert _family_status(browser, live_server.url, token, reference) == "已处理"
        assert reference not in _office_page(browser, live_server.url, "/office/reports")
        needs = _office_page(browser, live_server.url, "/office/needs-action")
        assert world.h_chengzi.head_name not in needs

        phone.sync_now()  # the next pull drops it from the phone
        phone.goto("#/todo")
        expect(page.locator("p.empty")).to_have_text("没有待办的自主申报。")
    finally:
        browser.close()
