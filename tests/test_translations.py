"""Pages speak Chinese by default and English on request; every string has its Chinese."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "server" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def _catalog():
    with CATALOG.open("rb") as handle:
        return read_po(handle)


def test_pages_are_chinese_by_default_and_english_on_request(app):
    client = app.test_client()
    assert "登录" in client.get("/login").get_data(as_text=True)
    client.get("/lang/en")
    assert "Sign in" in client.get("/login").get_data(as_text=True)
    english_browser = app.test_client()
    page = english_browser.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Sign in" in page.get_data(as_text=True)


def test_every_source_string_has_a_chinese_translation(tmp_path):
    template = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pybabel"),
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-o",
            str(template),
            ".",  # babel.cfg's patterns (server/**) are relative to this directory
        ],
        cwd=ROOT,
        check=True,
    )
    with template.open("rb") as handle:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    assert len(wanted) > 100  # the extraction found the sources at all
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in _catalog()
        if m.id and (m.string if isinstance(m.string, str) else all(m.string))
    }
    assert sorted(wanted - translated) == []
