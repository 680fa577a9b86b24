"""户籍 in a real browser at desk width: a town office clerk adds a household with two members
and assigns its 帮扶责任人, and that cadre's phone pulls it; a village committee sees only its
own village's households and tasks."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import Household, NeedsAction, utcnow
from tests.conftest import PASSWORD, id_number

pytestmark = pytest.mark.e2e


def office_sign_in(page, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_a_clerk_adds_a_household_and_the_cadres_phone_pulls_it(desk, phone, world):
    office_sign_in(desk, "town_supervisor")
    expect(desk).to_have_url(f"{phone.base_url}/office/")
    desk.click("header nav >> text=户籍")
    desk.click("text=+ 新建农户")
    desk.select_option("select[name=village_id]", label="太河镇 城子村")
    desk.fill("input[name=code]", "H7001")
    desk.select_option("select[name=klass]", "C")
    desk.fill("input[name=phone]", "13905331234")
    rows = desk.locator("fieldset.member-row")
    for row, (name, number, relation) in zip(
        (rows.nth(0), rows.nth(1)),
        (("赵大山", id_number(501), "户主"), ("钱秀英", id_number(502, "19700101"), "配偶")),
        strict=True,
    ):
        row.locator("input[name^=name]").fill(name)
        row.locator("input[name^=id_number]").fill(number)
        row.locator("input[name^=relation]").fill(relation)
    desk.click("button:has-text('保存农户')")
    expect(desk.locator("h1")).to_contain_text("赵大山")
    members = desk.locator("#members + .scroll table")
    expect(members).to_contain_text("钱秀英")
    expect(members).not_to_contain_text(id_number(502, "19700101"))  # masked

    desk.select_option("select[name=cadre_id]", label="chengzi_cadre")
    desk.click("button:has-text('指定')")
    expect(desk.locator("dl.facts")).to_contain_text("chengzi_cadre")
    expect(desk.locator("table.audit")).to_contain_text("指定帮扶责任人")  # the change history

    phone.sign_in("chengzi_cadre")
    phone.open_household("赵大山")
    expect(phone.page.locator("body")).to_contain_text("钱秀英")
    household = db.session.scalar(select(Household).where(Household.code == "H7001"))
    assert [m.name for m in household.members] == ["赵大山", "钱秀英"]


def test_a_village_committee_sees_only_its_villages_households_and_tasks(desk, world):
    for household in (world.h_chengzi, world.h_shamao):
        item = NeedsAction(household_id=household.id, source="visit", source_id=household.id,
                           reason="illness", detail={}, raised_at=utcnow())  # fmt: skip
        db.session.add(item)
    db.session.commit()
    office_sign_in(desk, "chengzi_supervisor")
    desk.click("header nav >> text=户籍")
    listing = desk.locator("table.stack")
    expect(listing).to_contain_text("户主1")
    expect(listing).not_to_contain_text("户主2")
    desk.fill("input[name=q]", "户主2")
    desk.click("form.filters button")
    expect(listing).to_contain_text("没有符合条件的农户")

    desk.click("header nav >> text=待处理")
    expect(desk.locator("main")).to_contain_text("户主1")
    expect(desk.locator("main")).not_to_contain_text("户主2")

    answer = desk.goto(f"/office/households/{world.h_shamao.id}")
    assert answer.status == 404
    answer = desk.goto(f"/office/households?village={world.shamao.id}")
    assert answer.status == 404
