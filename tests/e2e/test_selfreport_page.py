"""The household self-report page in real headless Chromium, JavaScript off, at phone size;
and the printed door-card sheet.

Screenshots go to the test's temporary folder, or to docs/screenshots/ when
ZOUFANG_SCREENSHOTS=1 (to refresh the ones in the docs).
"""

import io
import os
import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.serving import make_server

from server.extensions import db
from server.models import Assignment, Household, Member, SelfReport, report_priority, utcnow
from server.selfreport import tokens

from ..conftest import PASSWORD, id_number
from .conftest import CHROMIUM
from .conftest import CHROMIUM_ARGS as ARGS

pytestmark = pytest.mark.e2e

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
HEADS = ["李建忠", "王秀英", "张德明", "刘桂兰", "陈志强", "赵玉芬"]


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def browser(playwright):
    """A plain browser (no persistent profile), from the session's one Playwright driver."""
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    return DOCS if os.environ.get("ZOUFANG_SCREENSHOTS") == "1" else tmp_path


def photo_file(tmp_path) -> Path:
    path = tmp_path / "hail.jpg"
    image = Image.new("RGB", (2400, 1800), (90, 140, 60))
    exif = Image.Exif()
    exif[0x010F] = "SomePhone"
    image.save(path, "JPEG", exif=exif)
    return path


def test_family_sends_a_report_with_a_photo_without_javascript(
    world, live_server, browser, tmp_path, shots
):
    world.h_chengzi.head_name = "李建忠"
    token = tokens.issue(world.h_chengzi, None, for_card=True)
    db.session.commit()
    context = browser.new_context(
        viewport={"width": 360, "height": 640}, java_script_enabled=False, device_scale_factor=2
    )
    page = context.new_page()
    page.goto(f"{live_server}/r/{token}")
    assert "李*忠" in page.content()
    page.screenshot(path=shots / "selfreport-page-360.png", full_page=True)

    page.check("input[name=category][value=disaster]")
    page.fill("textarea[name=description]", "昨晚下冰雹，猕猴桃打落了一半。")
    page.check("input[name=urgency][value=urgent]")
    page.fill("input[name=phone]", "139 0533 1234")
    page.set_input_files("input[name=photo]", str(photo_file(tmp_path)))
    with page.expect_navigation():
        page.click("button[type=submit]")
    reference = page.inner_text(".ref")
    assert re.fullmatch(r"\d{4}-\d{4}", reference)
    assert "已发送" in page.inner_text("body")
    page.screenshot(path=shots / "selfreport-sent-360.png", full_page=True)
    context.close()

    db.session.expire_all()
    report = db.session.scalars(select(SelfReport)).one()
    assert report.reference == reference and report.category == "disaster" and report.urgent
    assert report.callback_phone == "13905331234"
    assert report.photo is not None and max(report.photo.width, report.photo.height) == 1600


def add_households(world, count: int) -> None:
    cadre = world.users["chengzi_cadre"]
    for n, head in enumerate(HEADS[:count], start=10):
        household = Household(
            code=f"H{n:04d}", village=world.chengzi, head_name=head, klass="ABCD"[n % 4]
        )
        household.members = [
            Member(name=head, id_number=id_number(n), relation="户主", sex="M", birth_year=1960)
        ]
        db.session.add_all([household, Assignment(household=household, cadre=cadre)])
    cadre.display_name = "王芳"
    cadre.phone = "13905330001"
    db.session.commit()


def add_reports(world) -> None:
    """Two answered in different times, two waiting (one urgent), for the supervisors' list."""
    now = utcnow()
    rows = [
        ("illness", True, 300, 40, "父亲住院了，需要帮忙办理医保报销"),
        ("harvest", False, 2000, 600, "猕猴桃今年挂果多，想问冷库"),
        ("disaster", True, 90, None, "冰雹打坏了大棚"),
        ("housing", False, 30, None, "屋顶漏雨"),
    ]
    for n, (category, urgent, minutes_ago, answered_after, text) in enumerate(rows):
        received = now - timedelta(minutes=minutes_ago)
        responded = received + timedelta(minutes=answered_after) if answered_after else None
        db.session.add(
            SelfReport(
                reference=f"2024-000{n}",
                household_id=world.h_chengzi.id,
                form_nonce=f"bench{n:019d}",
                category=category,
                description=text,
                urgent=urgent,
                priority=report_priority(category, urgent),
                received_at=received,
                seen_at=responded,
                responded_at=responded,
            )
        )
    db.session.commit()


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_printed_card_sheet_has_clean_a4_pages(world, live_server, browser, tmp_path, shots):
    add_households(world, 6)  # with the world's own household: 7 cards, two A4 pages
    context = browser.new_context(viewport={"width": 1000, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server, "chengzi_supervisor")
    add_reports(world)
    page.goto(f"{live_server}/office/reports")
    assert page.locator("tbody tr").count() == 4
    page.screenshot(path=shots / "selfreport-supervisor-reports.png", full_page=True)
    page.goto(f"{live_server}/office/villages/{world.chengzi.id}/cards")
    with page.expect_navigation():
        page.click("form:has(input[value=missing]) button")
    assert page.locator("article.card").count() == 7
    assert page.locator("section.sheet").count() == 2

    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    (tmp_path / "cards.pdf").write_bytes(pdf)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 2  # no stray blank or split pages

    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    sheet = page.locator("section.sheet").first
    sheet.screenshot(path=shots / "selfreport-card-sheet-print.png")
    with Image.open(io.BytesIO(sheet.screenshot())) as image:
        assert abs(image.width - 794) <= 2 and abs(image.height - 1123) <= 2
    context.close()
