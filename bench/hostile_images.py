"""CPU seconds and peak memory that one hostile upload to the public QR page costs, with the
decoding limits of server/images.py on and off (off: Pillow's own PNG limits and the
40-megapixel budget the page had before), side by side.

Each upload is decoded in a fresh process, through images.reencode with the page's budget,
so the peak memory is that upload's alone: how far the process's peak resident memory
grew while decoding (0 when it stayed below what importing the app already reached).

    .venv/bin/python bench/hostile_images.py
"""

import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.hostile_images import HOSTILE, black_png  # noqa: E402

PUBLIC_EDGE = 1600  # the public page's long edge (server/selfreport/public.py)


def camera_jpeg(width=7300, height=5475) -> bytes:
    """A plain 40 MP camera-sized JPEG: what a family really sends, as a yardstick."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 140, 60)).save(out, "JPEG", quality=85)
    return out.getvalue()


def measure(path: str, limits: bool) -> dict:
    """Runs in the child: decode one file once, report CPU, peak memory and the outcome."""
    from PIL import ImageFile, PngImagePlugin

    from server import images

    budget = images.PUBLIC
    if not limits:
        PngImagePlugin.MAX_TEXT_CHUNK = ImageFile.SAFEBLOCK
        PngImagePlugin.MAX_TEXT_MEMORY = 64 * ImageFile.SAFEBLOCK
        budget = images.Budget(declared=40_000_000, decoded=40_000_000)
    raw = Path(path).read_bytes()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu_before = time.process_time()
    try:
        images.reencode(raw, PUBLIC_EDGE, budget)
        outcome = "kept"
    except images.ImageProblem as refused:
        outcome = f"refused: {refused}"
    cpu = time.process_time() - cpu_before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    return {"cpu": cpu, "peak_mb": peak / 1024, "outcome": outcome}


def run_child(path: str, limits: bool) -> dict:
    command = [sys.executable, __file__, "--child", path, "on" if limits else "off"]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    cases = dict(HOSTILE) | {
        "black PNG, 12 MP (largest kept)": lambda: black_png(4000, 3000),
        "camera JPEG, 40 MP (not hostile)": camera_jpeg,
    }
    columns = f"{'CPU s':>8} {'peak MB':>9}      "
    print(f"{'upload':34} {'size':>9} | {'limits off':^24} | {'limits on':^24} | on")
    print(f"{'':34} {'':>9} | {columns} | {columns} |")
    with tempfile.TemporaryDirectory() as folder:
        for name, make in cases.items():
            path = Path(folder) / "upload"
            path.write_bytes(make())
            size = f"{path.stat().st_size / 1024:.0f} KB"
            off, on = run_child(str(path), False), run_child(str(path), True)
            print(
                f"{name:34} {size:>9} | {off['cpu']:8.2f} {off['peak_mb']:9.1f}      "
                f"| {on['cpu']:8.2f} {on['peak_mb']:9.1f}      | {on['outcome'][:60]}"
            )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(measure(sys.argv[2], sys.argv[3] == "on")))
    else:
        main()
