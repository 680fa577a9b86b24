"""The Procfile's web command really serves the app under gunicorn, configured by environment."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _web_command() -> str:
    line = next(
        row for row in (ROOT / "Procfile").read_text().splitlines() if row.startswith("web:")
    )
    return line.removeprefix("web:").strip()


def test_procfile_serves_the_app_under_gunicorn(migrated, tmp_path):
    port = _free_port()
    env = os.environ | {
        "DATABASE_URL": migrated,
        "ZOUFANG_ENV": "production",
        "ZOUFANG_SECRET_KEY": "procfile-test-secret",
        "ZOUFANG_INSTANCE_PATH": str(tmp_path),
    }
    env |= {"PORT": str(port), "WEB_CONCURRENCY": "2", "WEB_THREADS": "2"}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    server = subprocess.Popen(
        ["bash", "-c", f"exec {_web_command()}"], cwd=ROOT, env=env, stderr=subprocess.PIPE
    )
    try:
        body = _get_when_up(f"http://127.0.0.1:{port}/api/openapi.json")
        assert b'"openapi": "3.0.3"' in body or b'"openapi":"3.0.3"' in body
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    assert b"Booting worker" in errors


def _get_when_up(url: str) -> bytes:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
