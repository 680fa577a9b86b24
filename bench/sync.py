"""Sync figures for issue 3, printed; no pass/fail (targets shown beside the figures).

1. Visits per second through POST /api/sync/push in batches of 50 on SQLite, next to a bare
   Flask + sqlite3 endpoint writing the same rows in plain SQL (visit, crop, the household's
   last visit, its month row and count, the change sequence, the phone's status; no
   validation, no scope, no idempotency, no flag checks), and to the same models written
   through SQLAlchemy's ORM with nothing else, measured in the same run, alternating rounds;
   p95 per batch for each. Target: push >= 0.8 of bare.
2. The byte size of a 12 MP test photo compressed as the phone does it (long edge 1600 px,
   JPEG quality 0.7). Target: about 300 KB at most.
3. The peak memory (VmHWM) of a gunicorn worker (Procfile settings: gthread, 4 threads)
   while 4 clients upload 200 such photos. Target: under 200 MB.
4. The PWA shell gzipped (bench/pwa_size.py). Target: at most 100 KB.

    .venv/bin/python bench/sync.py [--rounds 3] [--batches 20] [--photos 200]
"""

import argparse
import hashlib
import http.cookiejar
import io
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from contextlib import closing
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, g, request
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from server import create_app  # noqa: E402
from server.extensions import db  # noqa: E402
from server.models import (  # noqa: E402
    Assignment,
    ChangeCounter,
    CropRecord,
    DeviceStatus,
    Household,
    Town,
    User,
    Village,
    Visit,
    VisitMonth,
    VisitMonthCount,
)
from server.passwords import hash_password  # noqa: E402

BATCH = 50
PASSWORD = "bench password 123"
HOUSEHOLDS = 20  # a cadre is responsible for a handful of households
SHANGHAI = ZoneInfo("Asia/Shanghai")


# --- the world both endpoints write into ----------------------------------------------------


def bench_config(instance: Path) -> dict:
    instance.mkdir(parents=True, exist_ok=True)
    return {
        "ENV": "test",
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'zoufang.db'}",
        "INSTANCE_PATH": str(instance),
    }


def seed(app) -> list[int]:
    """A migrated database with one cadre responsible for HOUSEHOLDS households."""
    with app.app_context():
        upgrade()
        town = Town(name="太河镇")
        village = Village(town=town, name="城子村")
        cadre = User(
            username="cadre",
            display_name="帮扶干部",
            role="cadre",
            town=town,
            password_hash=hash_password(PASSWORD),
        )
        households = [
            Household(code=f"B{n:05d}", village=village, head_name=f"户主{n}", klass="C")
            for n in range(HOUSEHOLDS)
        ]
        db.session.add_all([town, village, cadre, *households])
        db.session.add_all(Assignment(household=h, cadre=cadre) for h in households)
        db.session.commit()
        return [h.id for h in households]


def visit_records(household_ids: list[int], count: int) -> list[dict]:
    """Visits as the phone sends them, each with one crop, 20 minutes apart: a cadre's pace
    (visits seconds apart would make every visit a neighbour of thousands in the flag checks
    for implausible travel, a load no cadre produces)."""
    start = datetime.now(UTC) - timedelta(minutes=20 * count + 60)
    records = []
    for n in range(count):
        records.append(
            {
                "uuid": str(uuid.uuid4()),
                "kind": "visit",
                "data": {
                    "household_id": household_ids[n % len(household_ids)],
                    "visited_at": (start + timedelta(minutes=20 * n)).isoformat(),
                    "location": {"lat": 36.5, "lon": 118.1, "accuracy_m": 12.0},
                    "situation": {"health": "same", "income": "better", "housing": "same"},
                    "sudden_event": None,
                    "notes": "家中一切正常，猕猴桃长势良好",
                    "needs": None,
                    "follow_up": None,
                    "crops": [
                        {
                            "uuid": str(uuid.uuid4()),
                            "crop": "kiwifruit",
                            "crop_name": None,
                            "area_mu": "0.5",
                            "plants": 40,
                            "yield_kg": None,
                            "expected_income_fen": 200000,
                            "season_year": 2026,
                        }
                    ],
                    "photo_uuids": [],
                    "report_id": None,
                },
            }
        )
    return records


# --- 1. push throughput ---------------------------------------------------------------------


def bare_app(path: Path) -> Flask:
    """Flask + sqlite3 and nothing else: parse the batch, insert visit and crop rows, commit."""
    app = Flask("bare")

    def connection():
        if "db" not in g:
            g.db = sqlite3.connect(path, isolation_level=None)
            g.db.execute("PRAGMA journal_mode=WAL")
            g.db.execute("PRAGMA synchronous=NORMAL")
            g.db.execute("PRAGMA foreign_keys=ON")
        return g.db

    @app.teardown_appcontext
    def close(exc):
        if "db" in g:
            g.db.close()

    @app.post("/push")
    def push():
        """The rows /api/sync/push writes for these visits, in plain SQL: the visit and its
        crop, the household's last visit, its month row and the month's count, the change
        sequence, and the phone's status."""
        con = connection()
        now = datetime.now(UTC).isoformat(" ")
        answers, households = [], {}
        con.execute("BEGIN IMMEDIATE")
        for record in request.get_json()["records"]:
            data = record["data"]
            household_id = data["household_id"]
            if household_id not in households:
                households[household_id] = con.execute(
                    "SELECT village_id, klass FROM household WHERE id = ?", (household_id,)
                ).fetchone()
            village_id, klass = households[household_id]
            visited_at = datetime.fromisoformat(data["visited_at"])
            location = data["location"] or {}
            cursor = con.execute(
                "INSERT INTO visit (uuid, household_id, cadre_id, visited_at, received_at,"
                " device_time_suspect, lat, lon, accuracy_m, situation, sudden_event, notes,"
                " needs, follow_up, photos_expected, photo_uuids)"
                " VALUES (?, ?, 1, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record["uuid"],
                    household_id,
                    data["visited_at"],
                    now,
                    location.get("lat"),
                    location.get("lon"),
                    location.get("accuracy_m"),
                    json.dumps(data["situation"]),
                    data["sudden_event"],
                    data["notes"],
                    data["needs"],
                    data["follow_up"],
                    len(data["photo_uuids"]),
                    json.dumps(data["photo_uuids"]),
                ),
            )
            for crop in data["crops"]:
                con.execute(
                    "INSERT INTO crop_record (uuid, household_id, visit_id, crop, crop_name,"
                    " area_mu, plants, yield_kg, expected_income_fen, season_year, recorded_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        crop["uuid"],
                        household_id,
                        cursor.lastrowid,
                        crop["crop"],
                        crop["crop_name"],
                        crop["area_mu"],
                        crop["plants"],
                        crop["yield_kg"],
                        crop["expected_income_fen"],
                        crop["season_year"],
                        now,
                    ),
                )
            con.execute(
                "UPDATE household SET last_visit_at = max(coalesce(last_visit_at, ?), ?)"
                " WHERE id = ?",
                (data["visited_at"], data["visited_at"], household_id),
            )
            local = visited_at.astimezone(SHANGHAI)
            month = local.year * 100 + local.month
            (visits,) = con.execute(
                "INSERT INTO visit_month (household_id, month, village_id, klass, visits,"
                " last_visit_at) VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (household_id, month)"
                " DO UPDATE SET visits = visits + 1,"
                " last_visit_at = max(last_visit_at, excluded.last_visit_at) RETURNING visits",
                (household_id, month, village_id, klass, data["visited_at"]),
            ).fetchone()
            if visits == 1:
                con.execute(
                    "INSERT INTO visit_month_count (month, village_id, klass, households)"
                    " VALUES (?, ?, ?, 1) ON CONFLICT (month, village_id, klass)"
                    " DO UPDATE SET households = households + 1",
                    (month, village_id, klass),
                )
            answers.append({"uuid": record["uuid"], "status": "created", "id": cursor.lastrowid})
        con.execute("UPDATE change_counter SET value = value + 1 WHERE id = 1")
        con.execute(
            f"UPDATE household SET change_seq = (SELECT value FROM change_counter WHERE id = 1),"
            f" updated_at = ? WHERE id IN ({', '.join('?' * len(households))})",
            (now, *households),
        )
        con.execute(
            "INSERT INTO device_status (user_id, device_id, pending_records, pending_photos,"
            " last_sync_at) VALUES (1, 'bench-phone', 0, 0, ?) ON CONFLICT (user_id, device_id)"
            " DO UPDATE SET pending_records = 0, pending_photos = 0,"
            " last_sync_at = excluded.last_sync_at",
            (now,),
        )
        con.execute("COMMIT")
        return {"results": answers}

    return app


def orm_app(path: Path) -> Flask:
    """Flask + SQLAlchemy's ORM writing the same rows as the bare endpoint through objects
    (one flush at the commit, no bulk statements), and nothing else: no validation, no
    scope, no idempotency, no flag checks. Shows what the stack itself costs."""
    app = Flask("orm")
    engine = create_engine(f"sqlite:///{path}")

    @app.post("/push")
    def push():
        now = datetime.now(UTC)
        with Session(engine, autoflush=False) as session:  # one flush, at the commit
            visits, months, counts = [], {}, {}
            for record in request.get_json()["records"]:
                data = record["data"]
                household = session.get(Household, data["household_id"])
                visited_at = datetime.fromisoformat(data["visited_at"])
                location = data["location"] or {}
                visit = Visit(
                    uuid=record["uuid"],
                    household_id=household.id,
                    cadre_id=1,
                    visited_at=visited_at,
                    received_at=now,
                    lat=location.get("lat"),
                    lon=location.get("lon"),
                    accuracy_m=location.get("accuracy_m"),
                    situation=data["situation"],
                    notes=data["notes"],
                    photo_uuids=data["photo_uuids"],
                    photos_expected=len(data["photo_uuids"]),
                    crops=[
                        CropRecord(
                            household_id=household.id,
                            recorded_at=now,
                            **(crop | {"area_mu": Decimal(crop["area_mu"])}),
                        )
                        for crop in data["crops"]
                    ],
                )
                visits.append(visit)
                session.add(visit)
                if household.last_visit_at is None or household.last_visit_at < visited_at:
                    household.last_visit_at = visited_at
                local = visited_at.astimezone(SHANGHAI)
                month = local.year * 100 + local.month
                row = months.get((household.id, month)) or session.get(
                    VisitMonth, (household.id, month)
                )
                if row is None:
                    row = VisitMonth(
                        household_id=household.id,
                        month=month,
                        village_id=household.village_id,
                        klass=household.klass,
                        visits=0,
                        last_visit_at=visited_at,
                    )
                    session.add(row)
                    key = (month, household.village_id, household.klass)
                    count = counts.get(key) or session.get(VisitMonthCount, key)
                    if count is None:
                        count = VisitMonthCount(
                            month=month, village_id=key[1], klass=key[2], households=0
                        )
                        session.add(count)
                    counts[key] = count
                    count.households += 1
                months[(household.id, month)] = row
                row.visits += 1
                row.last_visit_at = max(row.last_visit_at, visited_at)
            counter = session.get(ChangeCounter, 1)
            counter.value += 1
            for visit in visits:
                session.get(Household, visit.household_id).change_seq = counter.value
            device = session.scalar(select(DeviceStatus).where(DeviceStatus.user_id == 1))
            if device is None:
                device = DeviceStatus(user_id=1, device_id="bench-phone")
                session.add(device)
            device.pending_records = device.pending_photos = 0
            device.last_sync_at = now
            session.commit()
            return {"results": [{"uuid": v.uuid, "status": "created", "id": v.id} for v in visits]}

    return app


def timed_batches(post, batches: list[list[dict]]) -> list[float]:
    seconds = []
    for batch in batches:
        started = time.perf_counter()
        response = post(batch)
        seconds.append(time.perf_counter() - started)
        results = response.get_json()["results"]
        assert response.status_code == 200 and all(r["status"] == "created" for r in results)
    return seconds


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def push_throughput(rounds: int, batches: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folders = {name: Path(tmp) / name for name in ("sync", "bare", "orm")}
        sync_app = create_app(bench_config(folders["sync"]))
        household_ids = seed(sync_app)
        for name in ("bare", "orm"):  # the same schema and rows to refer to
            seed(create_app(bench_config(folders[name])))
        references = {
            "bare Flask+sqlite3": bare_app(folders["bare"] / "zoufang.db").test_client(),
            "Flask+SQLAlchemy ORM": orm_app(folders["orm"] / "zoufang.db").test_client(),
        }

        cadre = sync_app.test_client()
        login = cadre.post("/api/login", json={"username": "cadre", "password": PASSWORD})
        headers = {"X-CSRF-Token": login.get_json()["csrf_token"]}
        device = {"id": "bench-phone", "pending_records": 0, "pending_photos": 0}

        def post_sync(batch):
            body = {"device": device, "records": batch}
            return cadre.post("/api/sync/push", json=body, headers=headers)

        def poster(reference):
            return lambda batch: reference.post("/push", json={"records": batch})

        def new_batches():
            records = visit_records(household_ids, batches * BATCH)
            return [records[i : i + BATCH] for i in range(0, len(records), BATCH)]

        timed_batches(post_sync, new_batches()[:2])  # warm up
        for client in references.values():
            timed_batches(poster(client), new_batches()[:2])
        times = {name: [] for name in ["/api/sync/push", *references]}
        ratios = {name: [] for name in references}
        for _ in range(rounds):  # alternate, so all see the same machine load
            for name, client in references.items():
                times[name] += timed_batches(poster(client), new_batches())
            round_times = timed_batches(post_sync, new_batches())
            times["/api/sync/push"] += round_times
            for name in references:
                reference_round = times[name][-len(round_times) :]
                ratios[name].append(sum(reference_round) / sum(round_times))
        print(f"Push, batches of {BATCH} visits (1 crop each), SQLite, {rounds} rounds:")
        for name, seconds in times.items():
            per_second = len(seconds) * BATCH / sum(seconds)
            print(
                f"  {name:<22} {per_second:7.0f} visits/s, p95 {p95(seconds) * 1000:6.1f} ms/batch"
            )
        bare = statistics.median(ratios["bare Flask+sqlite3"])
        verdict = "ok" if bare >= 0.8 else "BELOW TARGET"
        print(
            f"  ratio push/bare sqlite3: {bare:.2f} (median of rounds; target >= 0.80: {verdict})"
        )
        orm = statistics.median(ratios["Flask+SQLAlchemy ORM"])
        print(f"  ratio push/ORM, same rows, no protocol: {orm:.2f} (median of rounds)")


# --- 2. the phone's photo -------------------------------------------------------------------


def twelve_megapixel_photo(seed_value: int = 7) -> Image.Image:
    """A synthetic 4000 x 3000 outdoor scene: sky gradient, textured fields, a house, trees,
    and sensor noise, so it compresses roughly like a real photo rather than a flat colour."""
    rng = random.Random(seed_value)
    width, height = 4000, 3000
    sky = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image = Image.blend(Image.new("RGB", (width, height), (90, 150, 220)), sky, 0.35)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, height * 0.55, width, height], fill=(96, 128, 60))
    for _ in range(400):  # field rows, shrubs and stones
        x, y = rng.uniform(0, width), rng.uniform(height * 0.55, height)
        r = rng.uniform(10, 120)
        tone = (rng.randint(40, 140), rng.randint(80, 160), rng.randint(20, 80))
        draw.ellipse([x - r, y - r / 3, x + r, y + r / 3], fill=tone)
    draw.rectangle([1500, 1200, 2600, 1900], fill=(210, 196, 170))
    draw.polygon([(1400, 1220), (2050, 800), (2700, 1220)], fill=(140, 50, 40))
    for _ in range(60):  # trees
        x, y = rng.uniform(0, width), rng.uniform(height * 0.45, height * 0.6)
        draw.ellipse([x - 90, y - 220, x + 90, y + 20], fill=(30, rng.randint(70, 110), 30))
    texture = Image.effect_noise((width // 4, height // 4), 60).resize((width, height))
    image = Image.blend(image, Image.merge("RGB", [texture] * 3), 0.12)
    grain = Image.effect_noise((width, height), 18)
    image = Image.blend(image, Image.merge("RGB", [grain] * 3), 0.06)
    return image.filter(ImageFilter.GaussianBlur(0.6))


def phone_compressed(image: Image.Image) -> bytes:
    """What the PWA does: long edge 1600 px, JPEG at quality 0.7 (canvas.toBlob)."""
    small = image.copy()
    small.thumbnail((1600, 1600), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=70)
    return out.getvalue()


def photo_size() -> list[bytes]:
    photos = [phone_compressed(twelve_megapixel_photo(seed_value=n)) for n in range(4)]
    sizes = [len(p) for p in photos]
    print(
        f"12 MP test photo, phone-compressed (1600 px, q 0.7): {sizes[0] / 1024:.0f} KB "
        f"(4 scenes: {', '.join(f'{s / 1024:.0f}' for s in sizes)} KB; target <= ~300 KB)"
    )
    return photos


# --- 3. a worker's memory while photos arrive -----------------------------------------------


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def multipart(fields: dict, file_bytes: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + file_bytes
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def http_session(base: str):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    body = json.dumps({"username": "cadre", "password": PASSWORD}).encode()
    login = urllib.request.Request(
        f"{base}/api/login", body, {"Content-Type": "application/json"}, method="POST"
    )
    csrf = json.load(opener.open(login))["csrf_token"]
    return opener, csrf


def call(opener, csrf, url, body, content_type, method="POST"):
    headers = {"Content-Type": content_type, "X-CSRF-Token": csrf}
    with opener.open(urllib.request.Request(url, body, headers, method=method)) as response:
        return response.status, json.load(response)


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def wait_for_worker(master: int, base: str) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        try:
            urllib.request.urlopen(f"{base}/api/openapi.json", timeout=2)
            if children:
                return int(children[0])
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def announce_visits(base, opener, csrf, household_ids, photos, count) -> list[tuple]:
    """Push visits announcing count photos (20 per visit, the most a visit takes)."""
    uploads = []
    for start in range(0, count, 20):
        photo_uuids = [str(uuid.uuid4()) for _ in range(min(20, count - start))]
        [record] = visit_records(household_ids, 1)
        record["data"]["photo_uuids"] = photo_uuids
        body = json.dumps({"records": [record]}).encode()
        _, answer = call(opener, csrf, f"{base}/api/sync/push", body, "application/json")
        assert answer["results"][0]["status"] == "created", answer
        uploads += [(u, record["uuid"], photos[i % len(photos)]) for i, u in enumerate(photo_uuids)]
    return uploads


def upload_photos(base, opener, csrf, uploads: list[tuple], clients: int = 4) -> float:
    """PUT every photo, from several clients at once sharing one sign-in; seconds taken."""
    queue = list(uploads)
    lock = threading.Lock()

    def client():
        while True:
            with lock:
                if not queue:
                    return
                photo_uuid, visit_uuid, data = queue.pop()
            fields = {"visit_uuid": visit_uuid, "sha256": hashlib.sha256(data).hexdigest()}
            body, content_type = multipart(fields, data)
            url = f"{base}/api/sync/photos/{photo_uuid}"
            status, _ = call(opener, csrf, url, body, content_type, method="PUT")
            assert status == 201, status

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def worker_memory(photos: list[bytes], count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        household_ids = seed(create_app(bench_config(instance)))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = os.environ | {
            "ZOUFANG_INSTANCE_PATH": str(instance),
            "ZOUFANG_SECRET_KEY": "bench",
            "ZOUFANG_ENV": "test",
        }
        env.pop("DATABASE_URL", None)
        gunicorn = [
            str(Path(sys.executable).parent / "gunicorn"),
            "--workers=1",
            "--threads=4",
            f"--bind=127.0.0.1:{port}",
            "server:create_app()",
        ]
        server = subprocess.Popen(gunicorn, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
        try:
            worker = wait_for_worker(server.pid, base)
            idle = memory_kb(worker, "VmRSS")
            opener, csrf = http_session(base)  # one sign-in (argon2 takes 19 MiB for it)
            uploads = announce_visits(base, opener, csrf, household_ids, photos, count)
            before = memory_kb(worker, "VmHWM")
            Path(f"/proc/{worker}/clear_refs").write_text("5")  # restart the peak from here
            seconds = upload_photos(base, opener, csrf, uploads)
            peak = memory_kb(worker, "VmHWM")
        finally:
            server.terminate()
            server.wait(timeout=30)
        verdict = "ok" if peak < 200 * 1024 else "OVER TARGET"
        print(
            f"gunicorn worker (1 worker, 4 threads), {count} photos PUT by 4 clients: "
            f"peak RSS {peak / 1024:.0f} MB while ingesting (target < 200 MB: {verdict}); "
            f"idle {idle / 1024:.0f} MB, peak before the photos {before / 1024:.0f} MB; "
            f"{count / seconds:.1f} photos/s"
        )


# --- 4. the PWA shell -----------------------------------------------------------------------


def pwa_shell() -> None:
    """The gzipped app shell, measured by the PWA's own script."""
    from bench.pwa_size import print_pwa_shell_size

    print_pwa_shell_size()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=20, help="batches of 50 per round")
    parser.add_argument("--photos", type=int, default=200)
    args = parser.parse_args()
    push_throughput(args.rounds, args.batches)
    photos = photo_size()
    worker_memory(photos, args.photos)
    pwa_shell()


if __name__ == "__main__":
    main()
