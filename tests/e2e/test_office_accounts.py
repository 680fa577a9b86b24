"""Accounts in real Chromium: a town supervisor at a desk creates a cadre's account, the
cadre signs in on the phone with the one-time password and is made to choose a new one, and
the log shows both; a village committee sees neither accounts nor another village's log."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import Assignment, AuditEvent, User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "zhang-wei-2026"


def sign_in_at_desk(page, username: str, then: str):
    page.goto(f"/login?next={then}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{then}")


def test_supervisor_creates_a_cadre_who_changes_the_one_time_password_on_the_phone(
    desk, phone, world
):
    sign_in_at_desk(desk, "town_supervisor", "/office/accounts")
    expect(desk.locator("header nav")).to_contain_text("账户")
    desk.click("text=新建账户")
    desk.check("input[name=kind][value=cadre]")
    desk.fill("input[name=username]", "zhangwei")
    desk.fill("input[name=display_name]", "张伟")
    desk.fill("input[name=phone]", "13800001111")
    desk.click("button[type=submit]:has-text('创建账户')")
    expect(desk.locator("h1")).to_have_text("账户已创建")
    one_time = desk.locator("[data-testid=one-time-password]").inner_text()
    assert len(one_time) == 14

    user = db.session.scalar(select(User).where(User.username == "zhangwei"))
    db.session.add(Assignment(household_id=world.h_chengzi.id, cadre_id=user.id))
    db.session.commit()

    page = phone.page
    phone.goto()
    page.fill("input[name=username]", "zhangwei")
    page.fill("input[name=password]", one_time)
    page.click("button[type=submit]")
    form = page.locator("section.password-change")
    expect(form).to_contain_text("一次性密码")
    form.locator("input[name=new-password]").fill(NEW_PASSWORD)
    form.locator("input[name=repeated-password]").fill("something-else")
    form.locator("button[type=submit]").click()
    expect(form.locator(".error")).to_have_text("两次输入的新密码不一致。")
    form.locator("input[name=repeated-password]").fill(NEW_PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page.locator("ul.cards .card", has_text="户主1")).to_be_visible()
    db.session.expire_all()
    assert db.session.get(User, user.id).must_change_password is False

    desk.goto("/office/audit?kind=user")
    rows = desk.locator("table.audit tbody tr")
    expect(rows.first).to_contain_text("账户 · 张伟 · 本人修改密码")
    expect(desk.locator("table.audit")).to_contain_text("账户 · 张伟 · 新建")
    desk.goto("/office/accounts?q=zhangwei")
    expect(desk.locator("tr[data-account=zhangwei]")).to_contain_text("正常")


def test_village_committee_sees_no_accounts_and_no_other_village_in_the_log(desk, world, login):
    town = login("town_supervisor")
    for household, phone in ((world.h_chengzi, "13700000001"), (world.h_shamao, "13700000002")):
        answer = town.patch(f"/api/households/{household.id}", json={"phone": phone})
        assert answer.status_code == 200
    shamao_events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.household_id == world.h_shamao.id)
    ).all()
    assert shamao_events

    sign_in_at_desk(desk, "chengzi_supervisor", "/office/audit")
    nav = desk.locator("header nav")
    expect(nav).to_contain_text("日志")
    expect(nav).not_to_contain_text("账户")
    log = desk.locator("table.audit")
    expect(log).to_contain_text("户主1（H0001）")
    expect(log).to_contain_text("13700000001")
    expect(log).not_to_contain_text("H0002")
    expect(log).not_to_contain_text("13700000002")
    desk.fill("input[name=household]", "H0002")
    desk.click("button[type=submit]:has-text('查看')")
    expect(desk.locator("p.error")).to_have_text("没有户编号为 H0002 的户。")
    expect(desk.locator("table.audit tbody tr[data-event]")).to_have_count(0)

    for url in ("/office/accounts", f"/office/accounts/{world.users['shamao_cadre'].id}"):
        answer = desk.goto(url)
        assert answer.status == 403
    assert desk.goto(f"/office/cadres/{world.users['shamao_cadre'].id}").status == 404
    assert desk.goto(f"/office/cadres/{world.users['chengzi_cadre'].id}").status == 200
