"""The app shell as the server serves it: root-scope service worker, manifest, content hash."""

import gzip
import json
import re
import shutil
from pathlib import Path

import pytest

from server import create_app
from server.codes import SITUATION_KEYS, SUDDEN_EVENTS, TRENDS
from server.errors import FIELD_CODES
from server.models import CROPS, MEASURE_KINDS
from server.pages import build_shell, content_hash, source_files

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
    assert f"from '/v/{shell.version}/pwa/outbox.js'" in response.text


def test_every_precached_url_is_served(app, client):
    for url in app.extensions["app_shell"].urls:
        assert client.get(url).status_code == 200, url


def test_the_shell_lists_every_module_and_the_icons(app):
    shell = app.extensions["app_shell"]
    urls = set(shell.urls)
    pwa = REPO / "pwa"
    modules = {f"{shell.prefix}pwa/{p.relative_to(pwa).as_posix()}" for p in pwa.rglob("*.js")}
    assert modules - {f"{shell.prefix}pwa/sw.js"} <= urls
    assert f"{shell.prefix}pwa/codes.js" in urls
    assert {"/", "/manifest.webmanifest", f"{shell.prefix}static/css/app.css"} <= urls
    icons = {f"{shell.prefix}static/icons/icon-{n}.png" for n in (192, 512)}
    assert icons <= urls
    assert not any(url.endswith(("/sw.js", "/index.html")) for url in urls)


def test_raw_templates_are_not_served_under_pwa(app, client):
    prefix = app.extensions["app_shell"].prefix
    for name in ("sw.js", "index.html", "manifest.webmanifest"):
        assert client.get(f"/pwa/{name}").status_code == 404
        assert client.get(f"{prefix}pwa/{name}").status_code == 404


def test_versioned_files_are_compressed_and_cached_for_good(app, client):
    shell = app.extensions["app_shell"]
    url = f"{shell.prefix}pwa/app.js"
    packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Accept-Encoding" in packed.headers["Vary"]
    plain = client.get(url)
    assert "Content-Encoding" not in plain.headers
    refused = client.get(url, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert len(packed.get_data()) * 2 < len(plain.get_data())


def test_the_page_is_compressed_and_answers_304_when_unchanged(client):
    first = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip" and first.headers["ETag"]
    again = client.get(
        "/", headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304 and again.get_data() == b""


def test_another_versions_urls_are_not_found_and_plain_names_lead_to_this_one(app, client):
    shell = app.extensions["app_shell"]
    assert client.get("/v/0123456789abcdef/pwa/app.js").status_code == 404
    assert client.get(f"{shell.prefix}pwa/nothing.js").status_code == 404
    moved = client.get("/pwa/outbox.js")
    assert moved.status_code == 302 and moved.location.endswith(f"{shell.prefix}pwa/outbox.js")


def test_the_phone_reads_its_code_lists_from_the_server(app, client):
    shell = app.extensions["app_shell"]
    text = client.get(f"{shell.prefix}pwa/codes.js").text
    exported = dict(re.findall(r"^export const (\w+) = (.+);$", text, re.MULTILINE))
    assert {name: json.loads(value) for name, value in exported.items()} == {
        "KLASSES": ["A", "B", "C", "D"],
        "SITUATION": list(SITUATION_KEYS),
        "TRENDS": list(TRENDS),
        "EVENTS": list(SUDDEN_EVENTS),
        "CROPS": list(CROPS),
        "MEASURES": list(MEASURE_KINDS),
        "FIELD_CODES": list(FIELD_CODES),
        "PHOTOS_PER_VISIT": 20,
        "PHOTO_MAX_BYTES": app.config["PHOTO_MAX_BYTES"],
    }


def test_no_phone_module_keeps_its_own_copy_of_a_code_list():
    lists = [SITUATION_KEYS, TRENDS, SUDDEN_EVENTS, CROPS, MEASURE_KINDS, FIELD_CODES]
    copies = []
    for path in (REPO / "pwa").rglob("*.js"):
        for literal in re.findall(r"\[[^\[\]]*\]", path.read_text(encoding="utf-8")):
            quoted = set(re.findall(r"'(\w+)'", literal))
            copies += [path.name for codes in lists if len(quoted & set(codes)) >= 2]
    assert copies == []


def test_a_changed_code_list_or_photo_limit_changes_the_version(tmp_path):
    root = _copy_shell(tmp_path)
    assert build_shell(root, 10_000).version == build_shell(root, 10_000).version
    assert build_shell(root, 10_000).version != build_shell(root, 20_000).version


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
    before = content_hash(source_files(root, 10_000))
    assert content_hash(source_files(root, 10_000)) == before
    css = root / "static" / "css" / "app.css"
    css.write_text(css.read_text() + "\n/* changed */\n")
    assert content_hash(source_files(root, 10_000)) != before


def test_the_version_is_computed_once_at_start(app, tmp_path):
    root = _copy_shell(tmp_path)
    started = create_app(dict(app.config) | {"APP_SHELL_DIR": str(root)})
    version = started.extensions["app_shell"].version
    (root / "pwa" / "app.js").write_text("// a deploy\n")
    assert f"const VERSION = '{version}';" in started.test_client().get("/sw.js").text
    restarted = create_app(dict(app.config) | {"APP_SHELL_DIR": str(root)})
    assert restarted.extensions["app_shell"].version != version


def test_a_service_worker_without_placeholders_is_refused(tmp_path):
    root = _copy_shell(tmp_path)
    (root / "pwa" / "sw.js").write_text("self.addEventListener('fetch', () => {});\n")
    with pytest.raises(RuntimeError, match="placeholder"):
        build_shell(root, 10_000)
