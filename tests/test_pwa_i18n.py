"""The PWA's string catalogs: every key the code asks for exists in Chinese and in English."""

import re
from pathlib import Path

from server.codes import SITUATION_KEYS, SUDDEN_EVENTS, TRENDS
from server.errors import FIELD_CODES
from server.models import CROPS, KLASSES, MEASURE_KINDS, REPORT_CATEGORIES

PWA = Path(__file__).resolve().parents[1] / "pwa"
ENTRY = re.compile(r"^\s*'([\w.]+)':", re.MULTILINE)
PLACEHOLDER = re.compile(r"\{(\w+)\}")
LITERAL_CALL = re.compile(r"\bt\('([\w.]+)'")
# Keys built at run time, e.g. t(`klass.${household.klass}`), and the values they can take.
DYNAMIC = {
    "klass": list(KLASSES),
    "situation": list(SITUATION_KEYS),
    "trend": list(TRENDS),
    "event": list(SUDDEN_EVENTS),
    "crop": list(CROPS),
    "state": ["waiting", "sent", "rejected"],
    "photo": ["waiting", "sent", "rejected"],
    "measure": list(MEASURE_KINDS),
    "reportCategory": list(REPORT_CATEGORIES),
    # Every field code the server can send has its sentence (rejection.js camel-cases it).
    "code": [re.sub(r"_(\w)", lambda m: m.group(1).upper(), c) for c in FIELD_CODES],
}


def catalog(name: str) -> dict[str, str]:
    text = (PWA / "i18n" / name).read_text(encoding="utf-8")
    entries = re.findall(r"^\s*'([\w.]+)':\s*'((?:[^'\\]|\\.)*)',", text, re.MULTILINE)
    assert len(entries) == len(ENTRY.findall(text)), f"{name}: an entry the test cannot read"
    return dict(entries)


def used_keys() -> set[str]:
    keys = set()
    for path in PWA.rglob("*.js"):
        text = path.read_text(encoding="utf-8")
        keys.update(LITERAL_CALL.findall(text))
        for prefix in re.findall(r"\bt\(`([\w]+)\.\$\{", text):
            keys.update(f"{prefix}.{value}" for value in DYNAMIC[prefix])
    return keys


def test_every_key_in_use_is_translated():
    zh, en = catalog("zh-CN.js"), catalog("en.js")
    missing = {"zh-CN": used_keys() - zh.keys(), "en": used_keys() - en.keys()}
    assert missing == {"zh-CN": set(), "en": set()}


def test_both_catalogs_have_the_same_keys_and_placeholders():
    zh, en = catalog("zh-CN.js"), catalog("en.js")
    assert zh.keys() == en.keys()
    for key in zh:
        assert set(PLACEHOLDER.findall(zh[key])) == set(PLACEHOLDER.findall(en[key])), key


def mentioned_keys() -> set[str]:
    """Keys also reach t() through variables (a label table, a helper): any quoted mention."""
    keys = set(used_keys())
    for path in PWA.rglob("*.js"):
        if path.parent.name != "i18n":
            keys.update(re.findall(r"'(\w+\.\w+)'", path.read_text(encoding="utf-8")))
    return keys


def test_no_key_is_left_unused():
    assert catalog("zh-CN.js").keys() - mentioned_keys() == set()
