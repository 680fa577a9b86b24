"""Every page carries a Content-Security-Policy that allows nothing inline, and runs nothing
inline; HSTS in production."""

import re

import pytest
from flask import url_for

from server import create_app, pages, security
from tests.conftest import app_config
from tests.test_selfreport import issue, make_report

INLINE = {
    "style element": re.compile(r"<style[\s>]", re.I),
    "style attribute": re.compile(r"<[^>]+\sstyle\s*=", re.I),
    "inline script": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I),
    "event handler": re.compile(r"<[^>]+\son[a-z]+\s*=", re.I),
    "javascript: link": re.compile(r"javascript:", re.I),
}
MISSING_JOB = 987_654
FILES = {
    "pages.static_file": "css/office.css",
    "pages.pwa_file": "app.js",
    "pages.shell_file": "app.js",
}


def _page_urls(app, world, token, report) -> dict[str, str]:
    """One URL for every GET route outside the API, arguments filled from the test town."""
    args = {
        "household_id": world.h_chengzi.id,
        "village_id": world.chengzi.id,
        "town_id": world.town.id,
        "report_id": report.id,
        "account_id": world.users["chengzi_cadre"].id,
        "job_id": MISSING_JOB,  # an id no job has: the walk still reads the page's answer
        "cadre_id": world.users["chengzi_cadre"].id,
        "token": token,
        "what": "coverage",
        "fmt": "csv",
        "code": "en",
        "version": app.extensions["app_shell"].version,
        "rest": "cadres",  # the old /coverage/ and /supervise/ paths redirect
    }
    urls = {}
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.rule.startswith("/api/"):
                continue
            values = {name: args[name] for name in rule.arguments if name in args}
            if "filename" in rule.arguments:
                values["filename"] = FILES[rule.endpoint]
            urls[rule.endpoint] = url_for(rule.endpoint, **values)
    return urls


def _check_policy(policy: str | None, url: str) -> None:
    assert policy, f"{url} has no Content-Security-Policy"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url
    assert "frame-ancestors 'none'" in policy, url
    assert re.search(r"(default|script)-src '(self|none)'", policy), url


def test_every_page_has_a_strict_policy_and_runs_nothing_inline(world, app, login):
    token = issue(world.h_chengzi)
    report = make_report(world.h_chengzi, "illness", urgent=True)
    urls = _page_urls(app, world, token, report)
    assert len(urls) >= 20  # the walk really found the site's pages
    clients = [login(name).client for name in ("admin", "town_supervisor", "chengzi_cadre")]
    html_pages = set()
    for endpoint, url in sorted(urls.items()):
        for client in (*clients, app.test_client()):
            response = client.get(url)
            body = response.get_data(as_text=True)  # also ends a streamed export
            assert response.status_code < 500, url
            _check_policy(response.headers.get("Content-Security-Policy"), url)
            if response.status_code == 200 and response.mimetype == "text/html":
                html_pages.add(endpoint)
                for what, pattern in INLINE.items():
                    assert not pattern.search(body), f"{url}: {what}: {pattern.search(body)}"
    # Staff pages, the sign-in form, the public QR page and the PWA shell were all read.
    expected = {
        "office.overview",
        "office.town_settings",
        "office.report_page",
        "office.cards_index",
        "signin.login_form",
        "selfreport_public.page",
        "pages.index",
    }
    assert expected <= html_pages


def test_the_pwa_shell_keeps_its_own_policy(world, client):
    assert client.get("/").headers["Content-Security-Policy"] == pages.SHELL_CSP


def test_staff_pages_get_the_page_policy(world, login):
    response = login("town_supervisor").get("/office/")
    assert response.headers["Content-Security-Policy"] == security.PAGE_CSP


def test_door_cards_print_through_a_static_script(world, login):
    supervisor = login("town_supervisor")
    page = supervisor.post(
        f"/office/villages/{world.chengzi.id}/cards",
        data={"csrf_token": supervisor.csrf},
    )
    body = page.get_data(as_text=True)
    assert page.status_code == 200, body[:300]
    assert "data-print" in body and "/static/js/print.js" in body
    for what, pattern in INLINE.items():
        assert not pattern.search(body), what
    script = supervisor.get("/static/js/print.js")
    assert script.status_code == 200 and b"window.print()" in script.data


@pytest.mark.parametrize("env, sent", [("production", True), ("test", False)])
def test_hsts_only_in_production(migrated, tmp_path, env, sent):
    app = create_app(app_config(migrated, tmp_path) | {"ENV": env})
    with app.app_context():
        response = app.test_client().get("/login")
    assert ("Strict-Transport-Security" in response.headers) is sent
    if sent:
        assert response.headers["Strict-Transport-Security"] == security.HSTS
