"""The app shell as the server serves it: root-scope service worker, manifest, content hash."""

import re
import shutil
from pathlib import Path

import pytest

from server import create_app
from server.pages import build_shell, content_hash

REPO = Path(__file__).resolve().parents[1]


def _copy_shell(tmp_path) -> Path:
    root = tmp_path / "shell"
    for name in ("pwa", "static"):
        shutil.copytree(REPO / name, root / name)
    return root


def test_index_carries_the_version_and_a_strict_policy(app, client):
    response = client.get("/")
    version = app.extensions["app_shell"].version
    assert response.status_code == 200
    assert f'<meta name="app-version" content="{version}">' in response.text
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-cache"


def test_service_worker_is_served_from_the_root_with_version_and_shell(app, client):
    response = client.get("/sw.js")
    shell = app.extensions["app_shell"]
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert f"const VERSION = '{shell.version}';" in response.text
    assert "__APP_SHELL__" not in response.text and "__APP_VERSION__" not in response.text
    assert '"/pwa/outbox.js"' in response.text


def test_every_precached_url_is_served(app, client):
    for url in app.extensions["app_shell"].urls:
        assert client.get(url).status_code == 200, url


def test_the_shell_lists_every_module_and_the_icons(app):
    urls = set(app.extensions["app_shell"].urls)
    pwa = REPO / "pwa"
    modules = {f"/pwa/{p.relative_to(pwa).as_posix()}" for p in pwa.rglob("*.js")}
    assert modules - {"/pwa/sw.js"} <= urls
    assert {"/", "/manifest.webmanifest", "/static/css/app.css"} <= urls
    assert {"/static/icons/icon-192.png", "/static/icons/icon-512.png"} <= urls
    assert "/pwa/sw.js" not in urls


def test_raw_templates_are_not_served_under_pwa(client):
    assert client.get("/pwa/sw.js").status_code == 404
    assert client.get("/pwa/index.html").status_code == 404


def test_manifest_makes_the_app_installable(client):
    response = client.get("/manifest.webmanifest")
    manifest = response.get_json(force=True)
    assert response.mimetype == "application/manifest+json"
    assert manifest["name"] == "走访"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}


def test_any_changed_file_changes_the_version(tmp_path):
    root = _copy_shell(tmp_path)
    before = content_hash(root)
    assert content_hash(root) == before
    css = root / "static" / "css" / "app.css"
    css.write_text(css.read_text() + "\n/* changed */\n")
    assert content_hash(root) != before


def test_the_version_is_computed_once_at_start(app, tmp_path):
    root = _copy_shell(tmp_path)
    started = create_app(dict(app.config) | {"APP_SHELL_DIR": str(root)})
    version = started.extensions["app_shell"].version
    (root / "pwa" / "app.js").write_text("// a deploy\n")
    assert started.test_client().get("/sw.js").text.count(version) == 1
    restarted = create_app(dict(app.config) | {"APP_SHELL_DIR": str(root)})
    assert restarted.extensions["app_shell"].version != version


def test_a_service_worker_without_placeholders_is_refused(tmp_path):
    root = _copy_shell(tmp_path)
    (root / "pwa" / "sw.js").write_text("self.addEventListener('fetch', () => {});\n")
    with pytest.raises(RuntimeError, match="placeholder"):
        build_shell(root)
