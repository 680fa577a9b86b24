"""End-to-end fixtures: the real server on a free port, and a phone-sized headless Chromium
(Debian's /usr/bin/chromium) on a persistent profile that can be closed and opened again."""

import io
import logging
import shutil
import threading
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import func, select
from werkzeug.serving import make_server

from server import create_app
from server.extensions import db
from server.models import Assignment, Photo, Visit
from tests.conftest import PASSWORD
from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS

PHONE = {"width": 360, "height": 800}
DESK = {"width": 1280, "height": 900}
REPO = Path(__file__).resolve().parents[2]


class LiveServer:
    """Werkzeug serving the app in a thread. `deploy` swaps in another app at the same
    address, as a deploy of a new version would."""

    def __init__(self, app):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        self.app = app
        self._server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _dispatch(self, environ, start_response):
        return self.app(environ, start_response)

    def deploy(self, app):
        old, self.app = self.app, app
        with old.app_context():
            db.engine.dispose()

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def shell_dir(tmp_path):
    """A copy of pwa/ and static/ the test may change, as a deploy would."""
    root = tmp_path / "shell"
    for name in ("pwa", "static"):
        shutil.copytree(REPO / name, root / name)
    return root


def _served_app(config: dict, shell_dir: Path):
    return create_app(config | {"APP_SHELL_DIR": str(shell_dir)})


@pytest.fixture
def live_server(app, world, shell_dir):
    # The Chengzi cadre also gets the Shamao household, so visits can go to two households.
    db.session.add(Assignment(household=world.h_shamao, cadre=world.users["chengzi_cadre"]))
    db.session.commit()
    config = dict(app.config)
    server = LiveServer(_served_app(config, shell_dir))
    server.redeploy = lambda: server.deploy(_served_app(config, shell_dir))
    yield server
    server.stop()
    with server.app.app_context():
        db.engine.dispose()


def change_shell_file(shell_dir: Path) -> None:
    """What a deploy of a new app version does to the shell: a file changes."""
    app_js = shell_dir / "pwa" / "app.js"
    app_js.write_text(app_js.read_text() + f"\n// deployed {time.time()}\n")


@pytest.fixture(scope="session")
def playwright():
    with sync_playwright() as p:
        yield p


class Phone:
    """A cadre's phone: a persistent Chromium profile at a phone's viewport."""

    def __init__(self, playwright, profile: Path, base_url: str):
        self.playwright, self.profile, self.base_url = playwright, profile, base_url
        self.context = None
        self.page = None
        self.console = []

    def open(self, offline: bool = False):
        """Start the browser; offline from its first moment if asked (a pending Background
        Sync would otherwise fire at start-up, before a later set_offline)."""
        self.context = self.playwright.chromium.launch_persistent_context(
            str(self.profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            base_url=self.base_url,
            offline=offline,
        )
        self.context.set_default_timeout(15_000)
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e} {e.stack}"))
        return self

    def close(self):
        if self.context is not None:
            self.context.close()
            self.context = self.page = None

    def offline(self, flag: bool = True):
        self.context.set_offline(flag)

    def goto(self, hash_route: str = ""):
        self.page.goto("/" + hash_route)

    def sign_in(self, username="chengzi_cadre", password=PASSWORD):
        self.goto()
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        expect(self.page.locator("ul.cards .card").first).to_be_visible()

    def wait_for_js(self, expression: str, timeout: float = 30) -> None:
        """Until a JavaScript expression is true. Polled from here with page.evaluate: the
        app's policy forbids eval, which wait_for_function's polling in the page needs."""
        deadline = time.monotonic() + timeout
        while not self.page.evaluate(expression):
            if time.monotonic() > deadline:
                raise AssertionError(f"still not true after {timeout} s: {expression}")
            self.page.wait_for_timeout(100)

    def wait_for_worker(self):
        """Until the service worker controls the page and holds the shell."""
        self.wait_for_js("navigator.serviceWorker.controller?.state === 'activated'")

    def open_household(self, name: str):
        self.goto("#/")
        self.page.locator(".card", has_text=name).click()
        expect(self.page.locator(".household-head h1", has_text=name)).to_be_visible()

    def record_visit(self, name: str, *, notes="", photos=(), crops=(), worse=()):
        self.open_household(name)
        self.page.click("a.button.primary")
        form = self.page.locator("form.visit-form")
        expect(form).to_be_visible()
        prefilled = self.page.locator("fieldset.crop button.danger")
        while prefilled.count():
            prefilled.first.click()
        for key in worse:
            form.locator(f"input[name=situation-{key}][value=worse]").check(force=True)
        for crop in crops:
            fill_crop(self.page, crop)
        if notes:
            form.locator("textarea[name=notes]").fill(notes)
        if photos:
            self.page.set_input_files("#camera", [str(p) for p in photos])
            expect(form.locator(".photos figure")).to_have_count(len(photos), timeout=30_000)
        form.locator("button[type=submit]").click()
        expect(self.page.locator(".household-head h1", has_text=name)).to_be_visible()

    def sync_state(self) -> dict:
        self.goto("#/sync")
        page = self.page
        expect(page.locator("[data-testid=waiting-records]")).to_be_visible()
        return {
            name: int(page.locator(f"[data-testid={name}]").inner_text())
            for name in ("waiting-records", "waiting-photos", "attention")
        }

    def expect_sync_state(self, expected: dict, timeout: float = 30_000) -> None:
        """Until the sync page shows these counts (it refreshes itself as the queue moves, a
        moment after the server has answered)."""
        self.goto("#/sync")
        for name, count in expected.items():
            counter = self.page.locator(f"[data-testid={name}]")
            expect(counter).to_have_text(str(count), timeout=timeout)

    def sync_now(self):
        self.goto("#/sync")
        self.page.click("#sync-now")


def fill_crop(page, crop: dict):
    page.click("text=+ 添加作物")
    fieldset = page.locator("fieldset.crop").last
    fieldset.locator("select[name=crop]").select_option(crop["crop"])
    if crop.get("crop_name"):
        fieldset.locator("input[name=crop_name]").fill(crop["crop_name"])
    fieldset.locator("input[name=area_mu]").fill(crop["area_mu"])
    for field in ("plants", "yield_kg", "income_yuan"):
        if crop.get(field):
            fieldset.locator(f"input[name={field}]").fill(str(crop[field]))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.failed_call = report.failed
    return report


@pytest.fixture
def phone(request, playwright, tmp_path, live_server):
    device = Phone(playwright, tmp_path / "profile", live_server.url).open()
    yield device
    if getattr(request.node, "failed_call", False) and device.page is not None:
        # What the phone showed when the test failed, and what its console said.
        shot = tmp_path / "failure.png"
        device.page.screenshot(path=str(shot))
        print(f"screenshot: {shot}\nurl: {device.page.url}\n" + "\n".join(device.console))
    device.close()
    # Whatever the test checked, the app must not have thrown or broken its own policy.
    broken = [m for m in device.console if m.startswith("pageerror") or "Content Security" in m]
    assert not broken, broken


@pytest.fixture(scope="session")
def camera_photos(tmp_path_factory):
    """Two 12-megapixel JPEGs, as a phone camera takes them."""
    folder = tmp_path_factory.mktemp("camera")
    paths = []
    for n, colour in enumerate(("#2e7d32", "#1565c0"), start=1):
        image = Image.new("RGB", (4000, 3000), colour)
        draw = ImageDraw.Draw(image)
        for i in range(0, 4000, 160):
            draw.line([(i, 0), (4000 - i, 3000)], fill="#fbc02d", width=12)
        draw.text((200, 200), f"photo {n}", fill="white")
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=92)
        path = folder / f"IMG_{n:04d}.jpg"
        path.write_bytes(buffer.getvalue())
        paths.append(path)
    return paths


def server_counts() -> tuple[int, int]:
    db.session.expire_all()
    visits = db.session.scalar(select(func.count()).select_from(Visit))
    photos = db.session.scalar(select(func.count()).select_from(Photo))
    return visits, photos


def wait_until(phone: Phone, condition, timeout: float = 30) -> None:
    """Poll a Python-side condition, waiting through Playwright so that route handlers keep
    running meanwhile (a time.sleep would stall them)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"still not true after {timeout} s: {condition.__doc__ or condition}"
            )
        phone.page.wait_for_timeout(200)


def wait_for_server(phone: Phone, visits: int, photos: int, timeout: float = 30) -> None:
    """Until the server holds exactly these numbers of visits and photos."""
    try:
        wait_until(phone, lambda: server_counts() == (visits, photos), timeout)
    except AssertionError:
        assert server_counts() == (visits, photos)


@pytest.fixture
def desk(playwright, live_server):
    """An office computer: a desk-sized browser of the town office, Chinese, Beijing time."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    context = browser.new_context(
        viewport=DESK, locale="zh-CN", timezone_id="Asia/Shanghai", base_url=live_server.url
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    browser.close()
    assert not errors, errors
