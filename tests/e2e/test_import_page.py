"""A town office clerk imports a registry with bad rows in the browser: the check runs in a
real background worker with its progress shown, the refused rows are listed and downloaded,
then the file is applied."""

import os
import subprocess
import sys

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import func, select

from server import jobs as queue
from server.extensions import db
from server.models import Household
from tests.conftest import PASSWORD
from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.conftest import REPO, LiveServer, _served_app
from tests.test_import import HEADER, person, row, write_xlsx

pytestmark = pytest.mark.e2e
HOUSEHOLDS = 3000  # enough for the check to take a moment on the worker


def registry(path):
    rows = [
        row(
            f"E{n:05d}",
            "城子村",
            f"户{n}",
            f"户{n}",
            person(n % 1000, birth=f"19{50 + n // 1000}0101"),
            "户主",
            cadre=(None, None),
        )
        for n in range(HOUSEHOLDS)
    ]
    rows[10][10] = "E"  # no such class: household E00010 is refused
    rows[20][4] = rows[20][4][:17] + ("0" if rows[20][4][17] != "0" else "1")  # check digit
    return write_xlsx(path, rows)


@pytest.fixture
def office(app, world, shell_dir, tmp_path, playwright):
    """The real server and a real `flask jobs worker` on one queue file, and a desk browser."""
    queue_file = tmp_path / "queue.sqlite3"
    config = dict(app.config) | {"JOBS_IMMEDIATE": False, "QUEUE_FILE": str(queue_file)}
    server = LiveServer(_served_app(config, shell_dir))
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "ZOUFANG_ENV": "test",
        "ZOUFANG_SECRET_KEY": "test-secret",
        "ZOUFANG_INSTANCE_PATH": str(tmp_path / "worker-instance"),
        "ZOUFANG_QUEUE_FILE": str(queue_file),
        "FLASK_APP": "server",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "jobs", "worker"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    context = browser.new_context(
        base_url=server.url, locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if "Content Security" in m.text else None)
    yield page
    assert errors == []
    context.close()
    browser.close()
    worker.terminate()
    worker.wait(timeout=20)
    server.stop()
    with server.app.app_context():
        db.engine.dispose()
    app.config["JOBS_IMMEDIATE"] = True
    queue.init_app(app)


def households() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Household))


def test_a_clerk_checks_downloads_the_errors_and_applies_a_registry(office, tmp_path):
    page = office
    page.goto("/login")
    page.fill("input[name=username]", "town_supervisor")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto("/office/import")
    expect(page.locator("h1")).to_have_text("导入户籍")
    expect(page.locator("nav a[aria-current=page]")).to_have_text("导入")

    page.set_input_files("input[name=file]", str(registry(tmp_path / "户籍.xlsx")))
    page.click("button:has-text('上传并检查')")
    # The check runs on the worker; the page shows its progress, then its result.
    expect(page.locator(".progress progress")).to_be_visible()
    expect(page.locator(".job-state")).to_have_attribute("data-state", "checked", timeout=120_000)
    expect(page.locator("[data-count=households_created]").first).to_have_text(str(HOUSEHOLDS - 2))
    expect(page.locator("[data-count=households_rejected]").first).to_have_text("2")
    listed = page.locator("table.errors tbody tr")
    expect(listed).to_have_count(2)
    expect(listed.nth(0)).to_contain_text("E00010")
    expect(listed.nth(1)).to_contain_text("校验位")
    assert households() == 3  # the check wrote nothing

    with page.expect_download() as download:
        page.click("text=下载未通过的行（XLSX）")
    saved = tmp_path / "errors.xlsx"
    download.value.save_as(saved)
    sheet = load_workbook(saved).active
    lines = list(sheet.iter_rows(values_only=True))
    assert list(lines[0][1:-1]) == HEADER
    assert [(line[0], line[1]) for line in lines[1:]] == [(12, "E00010"), (22, "E00020")]

    page.click("button:has-text('确认导入')")
    expect(page.locator(".progress")).to_be_visible()
    expect(page.locator(".job-state")).to_have_attribute("data-state", "applied", timeout=180_000)
    expect(page.locator("[data-count=households_created]").first).to_have_text(str(HOUSEHOLDS - 2))
    assert households() == 3 + HOUSEHOLDS - 2
