"""The PWA shell's weight: every file the service worker precaches, as the server serves it,
raw and as the server itself sends it gzipped (compressed once, at start). Target: at most
100 KB. What a real first visit costs in Chromium, requests included: bench/shell_wire.py.

    .venv/bin/python bench/pwa_size.py
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server import create_app  # noqa: E402

TARGET_BYTES = 100 * 1024


def shell_sizes() -> list[tuple[str, int, int]]:
    """(url, raw bytes, gzipped bytes) for each precached URL."""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app(
            {
                "ENV": "test",
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/bench.db",
                "INSTANCE_PATH": instance,
            }
        )
        client = app.test_client()
        rows = []
        for url in app.extensions["app_shell"].urls:
            rows.append((url, *_sizes(client, url)))
        rows.append(("/sw.js (not precached)", *_sizes(client, "/sw.js")))
        return rows


def _sizes(client, url: str) -> tuple[int, int]:
    raw = client.get(url).get_data()
    packed = client.get(url, headers={"Accept-Encoding": "gzip"}).get_data()
    return len(raw), len(packed)


def print_pwa_shell_size() -> int:
    *rows, worker = shell_sizes()
    for url, raw, packed in [*rows, worker]:
        print(f"  {url:<48} {raw:>7} B  gzip {packed:>6} B")
    total = sum(packed for _, _, packed in rows)
    raw_total = sum(raw for _, raw, _ in rows)
    verdict = "ok" if total <= TARGET_BYTES else "OVER TARGET"
    print(
        f"PWA shell: {len(rows)} files, {raw_total / 1024:.1f} KB raw, "
        f"{total / 1024:.1f} KB gzipped (target <= {TARGET_BYTES // 1024} KB: {verdict})"
    )
    return total


if __name__ == "__main__":
    print_pwa_shell_size()
