"""The strict page policy in real Chromium: the public QR page, the sign-in form and the
door-card sheet keep their styles and print button, and Chromium reports no violation."""

import threading

import pytest
from werkzeug.serving import make_server

from server.extensions import db
from server.selfreport import tokens

from ..conftest import PASSWORD
from .conftest import CHROMIUM
from .conftest import CHROMIUM_ARGS as ARGS

pytestmark = pytest.mark.e2e


@pytest.fixture
def site(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def page(playwright):
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    page = chromium.new_context(viewport={"width": 360, "height": 800}).new_page()
    page.violations = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and page.violations.append(message.text)
        ),
    )
    yield page
    chromium.close()


def _style(page, selector: str, prop: str) -> str:
    return page.eval_on_selector(selector, f"e => getComputedStyle(e).{prop}")


def test_pages_are_styled_and_scripted_from_files_only(world, site, page):
    token = tokens.issue(world.h_chengzi, None, for_card=True)
    db.session.commit()
    page.goto(f"{site}/r/{token}")
    assert _style(page, "h1", "color") == "rgb(179, 38, 30)"  # selfreport.css applied

    page.goto(f"{site}/login?next=/office/cards")
    page.fill("input[name=username]", "town_supervisor")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url.endswith("/office/cards")

    page.goto(f"{site}/office/villages/{world.chengzi.id}/cards")
    assert _style(page, ".warn", "borderLeftWidth") == "4px"  # office.css for staff pages
    page.check("input[name=confirm]")
    with page.expect_navigation():
        page.click("input[value=all] ~ button[type=submit]")
    assert _style(page, ".sheet", "display") == "flex"  # cards.css
    page.evaluate("window.print = () => { window.printed = true; }")
    page.click("button[data-print]")
    assert page.evaluate("window.printed === true")
    assert page.violations == []
