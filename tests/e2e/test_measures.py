"""Support measures on the phone: shown with the household, confirmed at a visit, and offered
ticked at the next visit (a routine visit repeats them)."""

from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import SupportMeasure, Visit
from tests.e2e.conftest import wait_for_server

pytestmark = pytest.mark.e2e

HEAD_1 = "户主1"


def test_a_measure_is_shown_confirmed_at_a_visit_and_prefilled_next_time(phone, world):
    db.session.add(
        SupportMeasure(
            household=world.h_chengzi,
            kind="dividend",
            detail="光伏项目分红",
            amount_fen=150000,
            started_on=date(2026, 3, 1),
        )
    )
    db.session.commit()
    phone.sign_in()
    phone.open_household(HEAD_1)
    measures = phone.page.locator("section.block", has_text="帮扶措施")
    expect(measures).to_contain_text("项目分红")
    expect(measures).to_contain_text("1500 元/年 · 自 2026/03/01")

    phone.page.click("a.button.primary")
    box = phone.page.locator("input[name=measures][value=dividend]")
    expect(box).not_to_be_checked()  # the first visit: offered, not assumed
    phone.page.locator("label.choice", has_text="项目分红").click()  # as a finger would
    expect(box).to_be_checked()
    phone.page.locator("form.visit-form button[type=submit]").click()
    wait_for_server(phone, visits=1, photos=0)
    db.session.expire_all()
    assert db.session.scalar(select(Visit.measures)) == ["dividend"]

    phone.open_household(HEAD_1)
    expect(phone.page.locator(".visit .chip.measure")).to_have_text("项目分红")
    phone.page.click("a.button.primary")
    expect(phone.page.locator("input[name=measures][value=dividend]")).to_be_checked()
