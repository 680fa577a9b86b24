"""What the cadres' app costs on the wire, in real Chromium: the bytes and requests of a first
visit (the page, its modules, the service worker and its precache), of a repeat visit online,
and of a repeat visit offline. Counted where the server writes them (headers and bodies), so
nothing the browser kept to itself is counted. Side by side: the same visits with compression
refused (no Accept-Encoding), as the shell was served before it compressed itself.
Target: a first visit at most 100 KB.

    .venv/bin/python bench/shell_wire.py
"""

import logging
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from server import create_app  # noqa: E402
from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

TARGET_BYTES = 100 * 1024


@dataclass
class Wire:
    """Every response the server wrote, as (path, bytes of status line, headers and body)."""

    compress: bool = True
    sent: list[tuple[str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, app):
        def counted(environ, start_response):
            if not self.compress:
                environ.pop("HTTP_ACCEPT_ENCODING", None)
            head = []

            def start(status, headers, exc_info=None):
                lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers)]
                head.append(sum(len(line) + 2 for line in lines) + 2)
                return start_response(status, headers, exc_info)

            body = b"".join(app(environ, start))
            with self.lock:
                self.sent.append((environ["PATH_INFO"], head[0] + len(body)))
            return [body]

        return counted

    def take(self) -> list[tuple[str, int]]:
        with self.lock:
            taken, self.sent = self.sent, []
        return taken


def wait_for(page, expression: str, timeout: float = 30) -> None:
    """Polled from here: the shell's policy forbids the eval that wait_for_function needs."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s: {expression}")
        page.wait_for_timeout(100)


def settle(page, wire: Wire) -> None:
    """Until the server has seen nothing new for a second."""
    count = -1
    while count != len(wire.sent):
        count = len(wire.sent)
        page.wait_for_timeout(1000)


def visits(playwright, url: str, wire: Wire) -> dict[str, list[tuple[str, int]]]:
    with tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 360, "height": 800},
            locale="zh-CN",
        )
        page = context.pages[0] if context.pages else context.new_page()
        wire.take()
        page.goto(url + "/")
        wait_for(page, "navigator.serviceWorker.controller?.state === 'activated'")
        wait_for(page, "!!document.querySelector('section.signin')")
        settle(page, wire)
        first = wire.take()
        page.reload()
        wait_for(page, "!!document.querySelector('section.signin')")
        settle(page, wire)
        repeat = wire.take()
        context.set_offline(True)
        page.reload()
        wait_for(page, "!!document.querySelector('section.signin')")
        offline = wire.take()
        context.close()
    return {"first visit": first, "repeat visit, online": repeat, "repeat visit, offline": offline}


def main() -> None:
    with tempfile.TemporaryDirectory() as instance:
        app = create_app(
            {
                "ENV": "test",
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/bench.db",
                "INSTANCE_PATH": instance,
            }
        )
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        wire = Wire()
        server = make_server("127.0.0.1", 0, wire.wrap(app), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}"
        results = {}
        with sync_playwright() as playwright:
            for compress in (True, False):
                wire.compress = compress
                results[compress] = visits(playwright, url, wire)
        server.shutdown()

    packed = results[True]["first visit"]
    print("First visit, compressed, by URL:")
    for path, size in sorted(packed, key=lambda row: -row[1]):
        print(f"  {path[:60]:<60} {size:>7} B")
    print()
    print(f"{'':<24} {'compressed':>22} {'compression refused':>22}")
    for name in results[True]:
        cells = []
        for compress in (True, False):
            rows = results[compress][name]
            cells.append(f"{sum(s for _, s in rows) / 1024:7.1f} KB {len(rows):3} req")
        print(f"{name:<24} {cells[0]:>22} {cells[1]:>22}")
    first = sum(size for _, size in packed)
    shell_requests = len(packed)
    repeated = len(packed) - len({path for path, _ in packed})
    verdict = "ok" if first <= TARGET_BYTES else "OVER TARGET"
    print()
    print(
        f"first visit: {first / 1024:.1f} KB in {shell_requests} requests, "
        f"{repeated} URL(s) fetched twice (target <= {TARGET_BYTES // 1024} KB: {verdict})"
    )


if __name__ == "__main__":
    main()
