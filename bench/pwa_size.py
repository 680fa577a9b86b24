"""The PWA shell's weight on the wire: every file the service worker precaches, as the server
serves it, gzipped one by one (as a web server would send it). Target: at most 100 KB.

    .venv/bin/python bench/pwa_size.py
"""

import gzip
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
            body = client.get(url).get_data()
            rows.append((url, len(body), len(gzip.compress(body, compresslevel=6))))
        worker = client.get("/sw.js").get_data()
        rows.append(("/sw.js (not precached)", len(worker), len(gzip.compress(worker, 6))))
        return rows


def print_pwa_shell_size() -> int:
    *rows, worker = shell_sizes()
    for url, raw, packed in [*rows, worker]:
        print(f"  {url:<34} {raw:>7} B  gzip {packed:>6} B")
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
