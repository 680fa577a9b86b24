"""Coverage pages at county scale.

Builds a county (default 60,000 households in 10 towns, 3,000,000 visits over three years)
on SQLite and on PostgreSQL, then prints p50/p95 of the overview, the cadre page, an overdue
list and a household page, the time of a 100,000-visit XLSX export, and beside them the time
of a plain SELECT count(*) over the visits, measured in the same run. A past month is shown
once cold (its villages judged whole into month_snapshot), then again, then after late
visits to households all over the county before each look.

    .venv/bin/python bench/coverage.py                  # both databases
    .venv/bin/python bench/coverage.py --db sqlite --households 6000 --visits 300000
    .venv/bin/python bench/coverage.py --db sqlite --keep /tmp/county.db   # build once

With --keep the second run measures the county already built (its snapshots and late visits
from the first run included).

PostgreSQL: DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test) names the server;
a throwaway database is created and dropped.
"""

import argparse
import bisect
import os
import random
import sys
import tempfile
import time
import uuid
from array import array
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from flask_migrate import upgrade
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server import create_app  # noqa: E402
from server.coverage import record_visit_aggregates  # noqa: E402
from server.coverage.periods import Period  # noqa: E402
from server.extensions import db  # noqa: E402
from server.models import Assignment, Household, Visit, new_uuid, utcnow  # noqa: E402
from server.passwords import hash_password  # noqa: E402

PASSWORD = "bench password 1"
KLASS_SHARE = (("A", 0.523), ("B", 0.388), ("C", 0.08), ("D", 0.009))  # Taihe's figures
VISITS_PER_YEAR = {"A": 13, "B": 18, "C": 27, "D": 30}  # more than the rhythm asks
VILLAGES_PER_TOWN = 30
HOUSEHOLDS_PER_TOWN = 6000
HOUSEHOLDS_PER_CADRE = 10
YEARS = 3
SHANGHAI = 8 * 3600  # fixed offset, no daylight saving
CHUNK = 20_000


# --- databases ---------------------------------------------------------------------------


@contextmanager
def bench_database(kind: str, keep: str | None = None):
    if kind == "sqlite" and keep:  # a county built once, measured again and again
        folder = os.path.dirname(os.path.abspath(keep))
        yield f"sqlite:///{os.path.abspath(keep)}", folder
        return
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db", folder
        return
    server = make_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    admin = server.set(drivername="postgresql", database="postgres").render_as_string(False)
    name = f"zoufang_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory() as folder:
            yield server.set(database=name).render_as_string(False), folder
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def batched(rows, size: int):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Writer:
    """Bulk rows into a table: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self):
        self.raw = db.engine.raw_connection()
        self.pg = db.engine.dialect.name == "postgresql"
        if not self.pg:  # a bulk load wants a big page cache; the app's settings stay as they are
            self.execute("PRAGMA cache_size = -400000")

    def stamp(self, epoch: float):
        """An aware datetime for psycopg; SQLAlchemy's own text form on SQLite."""
        d = datetime.fromtimestamp(epoch, UTC)
        if self.pg:
            return d
        return (
            f"{d.year:04d}-{d.month:02d}-{d.day:02d} "
            f"{d.hour:02d}:{d.minute:02d}:{d.second:02d}.{d.microsecond:06d}"
        )

    def rows(self, table: str, columns: tuple, rows) -> None:
        cursor = self.raw.cursor()
        names = ", ".join(f'"{c}"' for c in columns)
        if self.pg:
            with cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            statement = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
            for chunk in batched(rows, 100_000):  # commits let the WAL checkpoint
                cursor.executemany(statement, chunk)
                self.raw.commit()
        self.raw.commit()

    def execute(self, sql: str) -> None:
        cursor = self.raw.cursor()
        cursor.execute(sql)
        self.raw.commit()

    def close(self):
        self.raw.close()


# --- the county --------------------------------------------------------------------------


class County:
    def __init__(self, households: int, visits: int, now: float, seed: int = 4):
        self.rng = random.Random(seed)
        self.n = households
        self.visits_wanted = visits
        self.now = now
        self.start = now - YEARS * 365 * 86400
        self.towns = max(1, round(households / HOUSEHOLDS_PER_TOWN))
        self.villages = self.towns * VILLAGES_PER_TOWN
        self.cadres = max(1, households // HOUSEHOLDS_PER_CADRE)

    def klasses(self) -> list[str]:
        pool = []
        for klass, share in KLASS_SHARE:
            pool += [klass] * round(share * self.n)
        pool = (pool + ["A"] * self.n)[: self.n]
        self.rng.shuffle(pool)
        return pool


def month_edges(start: float, end: float) -> tuple[list[float], list[int]]:
    """Epoch seconds of each local month start, and its key (202605)."""
    local = datetime.fromtimestamp(start + SHANGHAI, UTC).replace(day=1, hour=0, minute=0)
    edges, keys = [], []
    while local.timestamp() - SHANGHAI <= end:
        edges.append(local.timestamp() - SHANGHAI)
        keys.append(local.year * 100 + local.month)
        local = (local + timedelta(days=32)).replace(day=1)
    return edges, keys


def build(county: County, writer: Writer) -> dict:
    rng, now = county.rng, county.now
    timings = {}
    t = time.perf_counter()
    password = hash_password(PASSWORD)
    writer.rows(
        "town",
        ("id", "name", "settings"),
        [(i + 1, f"镇{i + 1:02d}", "{}") for i in range(county.towns)],
    )
    writer.rows(
        "village",
        ("id", "town_id", "name"),
        [(v + 1, v // VILLAGES_PER_TOWN + 1, f"村{v + 1:03d}") for v in range(county.villages)],
    )
    users = [(1, "admin", "县管理员", "admin", password, True, None, writer.stamp(now), 0)]
    for town in range(county.towns):
        users.append(
            (
                2 + town,
                f"town{town + 1}",
                f"镇{town + 1}督导",
                "supervisor",
                password if town == 0 else None,
                True,
                town + 1,
                writer.stamp(now),
                0,
            )
        )
    first_cadre = 2 + county.towns
    cadre_town = []
    for c in range(county.cadres):
        town = c * county.towns // county.cadres + 1
        cadre_town.append(town)
        users.append(
            (
                first_cadre + c,
                f"cadre{c + 1}",
                f"干部{c + 1:05d}",
                "cadre",
                None,
                True,
                town,
                writer.stamp(now),
                0,
            )
        )
    writer.rows(
        "user",
        (
            "id",
            "username",
            "display_name",
            "role",
            "password_hash",
            "enabled",
            "town_id",
            "created_at",
            "session_epoch",
        ),
        users,
    )

    klasses = county.klasses()
    per_village = county.n / county.villages
    village_of = [int(h / per_village) + 1 for h in range(county.n)]
    cadre_of = [first_cadre + h // HOUSEHOLDS_PER_CADRE for h in range(county.n)]
    homes = [(36.30 + rng.random() * 0.4, 117.90 + rng.random() * 0.4) for _ in range(county.n)]
    timings["people"] = time.perf_counter() - t

    t = time.perf_counter()
    stamps, owners = _visit_times(county, klasses)
    order = sorted(range(len(stamps)), key=stamps.__getitem__)
    timings["plan visits"] = time.perf_counter() - t

    t = time.perf_counter()
    edges, keys = month_edges(county.start, now)
    months, last_visit, crops = {}, [None] * county.n, []
    changes = _klass_changes(county, klasses)
    situations = [
        '{"health": "same", "income": "same", "housing": "same", "schooling": "same"}'
    ] * 48 + [
        '{"health": "worse", "income": "same", "housing": "same", "schooling": "same"}',
        '{"health": "same", "income": "worse", "housing": "same", "schooling": "same"}',
    ]

    def visit_rows():
        for number, index in enumerate(order, start=1):
            h, at = owners[index], stamps[index]
            month = keys[bisect.bisect_right(edges, at) - 1]
            seen = months.get((h, month))
            months[(h, month)] = (1, at) if seen is None else (seen[0] + 1, max(seen[1], at))
            last_visit[h] = at if last_visit[h] is None or at > last_visit[h] else last_visit[h]
            lat, lon = homes[h]
            if rng.random() < 0.1:
                crops.append((number, h, at))
            event = "illness" if rng.random() < 0.003 else None
            yield (
                number,
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                h + 1,
                cadre_of[h],
                writer.stamp(at),
                writer.stamp(at + 60 + rng.random() * 7200),
                False,
                lat + (rng.random() - 0.5) * 0.002,
                lon + (rng.random() - 0.5) * 0.002,
                5 + rng.random() * 30,
                rng.choice(situations),
                event,
                "例行走访，了解家庭收入和健康情况。",
                0,
            )

    households = [
        (
            h + 1,
            f"H{h + 1:06d}",
            village_of[h],
            f"户主{h + 1}",
            klasses[h],
            True,
            1,
            writer.stamp(county.start - 86400),
            writer.stamp(county.start - 86400),
        )
        for h in range(county.n)
    ]
    writer.rows(
        "household",
        (
            "id",
            "code",
            "village_id",
            "head_name",
            "klass",
            "active",
            "version",
            "created_at",
            "updated_at",
        ),
        households,
    )
    _drop_visit_indexes(writer)
    writer.rows(
        "visit",
        (
            "id",
            "uuid",
            "household_id",
            "cadre_id",
            "visited_at",
            "received_at",
            "device_time_suspect",
            "lat",
            "lon",
            "accuracy_m",
            "situation",
            "sudden_event",
            "notes",
            "photos_expected",
        ),
        visit_rows(),
    )
    timings["insert visits"] = time.perf_counter() - t

    t = time.perf_counter()
    _create_visit_indexes(writer)
    timings["index visits"] = time.perf_counter() - t

    t = time.perf_counter()
    _write_aggregates(county, writer, months, last_visit, village_of, klasses, changes)
    writer.rows(
        "assignment",
        ("id", "household_id", "cadre_id", "started_at"),
        [(h + 1, h + 1, cadre_of[h], writer.stamp(county.start)) for h in range(county.n)],
    )
    writer.rows(
        "crop_record",
        (
            "household_id",
            "visit_id",
            "crop",
            "area_mu",
            "expected_income_fen",
            "season_year",
            "recorded_at",
        ),
        [
            (
                h + 1,
                number,
                "kiwifruit" if number % 3 else "tobacco",
                "0.50" if number % 3 else "3.00",
                200000 if number % 3 else 500000,
                datetime.fromtimestamp(at, UTC).year,
                writer.stamp(at),
            )
            for number, h, at in crops
        ],
    )
    writer.rows(
        "device_status",
        ("user_id", "device_id", "pending_records", "pending_photos", "last_sync_at"),
        [
            (
                first_cadre + c,
                f"phone-{c}",
                rng.choice((0, 0, 0, 2)),
                rng.choice((0, 0, 1)),
                writer.stamp(now - rng.random() * 86400 * 5),
            )
            for c in range(county.cadres)
        ],
    )
    if writer.pg:
        for table in ("town", "village", "user", "household", "visit", "assignment"):
            sequence = f"pg_get_serial_sequence('\"{table}\"', 'id')"
            writer.execute(f'SELECT setval({sequence}, (SELECT max(id) FROM "{table}"))')
    if writer.pg:  # what autovacuum does in time: statistics, and the visibility map that
        writer.raw.commit()  # lets PostgreSQL answer from an index alone
        writer.raw.driver_connection.autocommit = True
        writer.execute("VACUUM ANALYZE")
        writer.raw.driver_connection.autocommit = False
    else:
        writer.execute("ANALYZE")
    timings["aggregates, assignments, crops, analyze"] = time.perf_counter() - t
    timings["visits"] = len(stamps)
    timings["crop rows"] = len(crops)
    return timings


def _visit_times(county: County, klasses) -> tuple[array, array]:
    """Visits spread over three years by class; about one household in eight has had none
    lately, so the overdue lists are not empty."""
    rng = county.rng
    scale = county.visits_wanted / sum(VISITS_PER_YEAR[k] * YEARS for k in klasses)
    stamps, owners = array("d"), array("l")
    for h, klass in enumerate(klasses):
        stop = (
            county.now
            - (rng.uniform(70, 200) if rng.random() < 0.12 else rng.uniform(0, 25)) * 86400
        )
        count = max(1, round(VISITS_PER_YEAR[klass] * YEARS * scale * rng.uniform(0.8, 1.2)))
        span = (stop - county.start) / count
        for i in range(count):
            stamps.append(county.start + span * (i + rng.random()))
            owners.append(h)
    return stamps, owners


def _klass_changes(county: County, klasses) -> dict:
    """One household in a hundred changed class at some point in the last two years."""
    rng, changes = county.rng, {}
    for h in rng.sample(range(county.n), county.n // 100):
        was = rng.choice([k for k in "ABCD" if k != klasses[h]])
        changes[h] = (county.now - rng.uniform(0, 730) * 86400, was)
    return changes


def _write_aggregates(county, writer, months, last_visit, village_of, klasses, changes):
    edges, keys = month_edges(county.start, county.now)
    ends = dict(zip(keys, edges[1:] + [county.now + 40 * 86400], strict=True))

    counts = Counter()

    def month_rows():
        for (h, month), (count, last) in months.items():
            klass = klasses[h]
            if h in changes and ends[month] <= changes[h][0]:
                klass = changes[h][1]
            counts[(month, village_of[h], klass)] += 1
            yield (h + 1, month, village_of[h], klass, count, writer.stamp(last))

    writer.rows(
        "visit_month",
        ("household_id", "month", "village_id", "klass", "visits", "last_visit_at"),
        month_rows(),
    )
    writer.rows(
        "visit_month_count",
        ("month", "village_id", "klass", "households"),
        [(*key, n) for key, n in counts.items()],
    )
    writer.rows(
        "klass_change",
        ("household_id", "klass_from", "klass_to", "changed_at"),
        [(h + 1, was, klasses[h], writer.stamp(at)) for h, (at, was) in changes.items()],
    )
    cursor = writer.raw.cursor()
    marker = "%s" if writer.pg else "?"
    cursor.executemany(
        f"UPDATE household SET last_visit_at = {marker} WHERE id = {marker}",
        [(writer.stamp(at), h + 1) for h, at in enumerate(last_visit) if at is not None],
    )
    writer.raw.commit()


VISIT_INDEXES = (
    "ix_visit_household_time",
    "ix_visit_cadre_id",
    "ix_visit_visited_at",
    "ix_visit_cadre_time",
)


def _drop_visit_indexes(writer):
    """Loading first and indexing after is several times faster than indexing row by row."""
    for name in VISIT_INDEXES:
        writer.execute(f'DROP INDEX "{name}"')


def _create_visit_indexes(writer):
    table = db.metadata.tables["visit"]
    with db.engine.begin() as conn:
        for index in table.indexes:
            if index.name in VISIT_INDEXES:
                index.create(conn)


# --- measuring ---------------------------------------------------------------------------


def timed(function, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def p(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def signed_in(app, username: str):
    client = app.test_client()
    response = client.post("/api/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_data(as_text=True)
    return client


def fetch(client, url: str):
    def go():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        response.get_data()

    return go


def measure(app, runs: int) -> list[tuple]:
    results = []
    with app.app_context():
        count_times = timed(
            lambda: db.session.execute(text("SELECT count(*) FROM visit")).scalar(), 5
        )
        total = db.session.execute(text("SELECT count(*) FROM visit")).scalar()
        results.append((f"SELECT count(*) over {total:,} visits", count_times))
    admin, town = signed_in(app, "admin"), signed_in(app, "town1")
    now = datetime.now(UTC) + timedelta(hours=8)
    past = f"{now.year - 1:04d}-{now.month:02d}"
    pages = [
        ("overview, county (60k households, admin)", admin, "/office/"),
        ("overview, one town (6k households)", town, "/office/"),
        (f"overview, county, past month {past}", admin, f"/office/?period={past}"),
        ("cadre page, county, first 50 cadres", admin, "/office/cadres"),
        ("cadre page, one town", town, "/office/cadres"),
        ("cadre page, one village", town, "/office/cadres?village=5"),
        ("overdue list, county, first page", admin, "/office/overdue"),
        ("overdue list, village x class C cell", town, "/office/overdue?village=5&klass=C"),
        (f"overdue list, county, past month {past}", admin, f"/office/overdue?period={past}"),
        ("household page (timeline)", town, "/office/households/77"),
        ("registry list, county, first page", admin, "/office/households"),
        ("registry list, county, search a name", admin, "/office/households?q=王"),
        ("registry list, one town, overdue", town, "/office/households?overdue=1"),
    ]
    for label, client, url in pages:
        start = time.perf_counter()
        fetch(client, url)()  # warm the caches once; a closed month is judged whole here
        if label.startswith("overview, county, past month"):
            results.append((f"{label}: first look", [time.perf_counter() - start]))
        results.append((label, timed(fetch(client, url), runs)))
    rng = random.Random(7)
    late = []
    for _ in range(runs):
        late_visits(app, now.year - 1, now.month, LATE_VISITS, rng)
        late += timed(fetch(admin, f"/office/?period={past}"), 1)
    results.append((f"overview, county, {past}, after {LATE_VISITS} late visits each", late))
    year = now.year - 1
    for fmt in ("xlsx", "csv"):
        url = f"/office/export/visits.{fmt}?period={year}&town=1"
        start, cpu = time.perf_counter(), time.process_time()
        body = town.get(url).get_data()
        results.append(
            (
                f"export visits {year}, town 1, {fmt.upper()} ({len(body) / 1e6:.1f} MB)",
                [time.perf_counter() - start],
                time.process_time() - cpu,
            )
        )
    with app.app_context():
        rows = db.session.execute(
            text(
                "SELECT count(*) FROM visit v JOIN household h ON h.id = v.household_id"
                " JOIN village g ON g.id = h.village_id"
                " WHERE g.town_id = 1 AND v.visited_at >= :a AND v.visited_at < :b"
            ),
            {
                "a": datetime(year - 1, 12, 31, 16, tzinfo=UTC),
                "b": datetime(year, 12, 31, 16, tzinfo=UTC),
            },
        ).scalar()
    results.append((f"(visits in that export: {rows:,})", []))
    return results


LATE_VISITS = 50


def late_visits(app, year: int, month: int, count: int, rng) -> None:
    """Visits of the last days of a closed month reaching the server now, stored the way the
    sync code stores them, to households all over the county."""
    with app.app_context():
        period = Period(year, month, ZoneInfo("Asia/Shanghai"))
        last = db.session.scalar(select(func.max(Household.id)))
        for household_id in rng.sample(range(1, last + 1), count):
            household = db.session.get(Household, household_id)
            cadre_id = db.session.scalar(
                select(Assignment.cadre_id).where(Assignment.household_id == household_id)
            )
            at = period.end - timedelta(days=rng.uniform(0.1, 10))
            visit = Visit(
                uuid=new_uuid(),
                household=household,
                cadre_id=cadre_id,
                visited_at=at,
                received_at=utcnow(),
                situation={},
            )
            db.session.add(visit)
            db.session.flush()
            record_visit_aggregates(household, visit)
        db.session.commit()


def report(kind: str, build_times: dict, results: list) -> None:
    print(f"\n== {kind}")
    for name, value in build_times.items():
        print(f"  build {name:<40} {value:>10,.1f}{'' if isinstance(value, int) else ' s'}")
    print(f"  {'measure':<58} {'p50 ms':>9} {'p95 ms':>9}")
    for label, times, *cpu in results:
        if not times:
            print(f"  {label}")
            continue
        extra = f"   (cpu {cpu[0]:.1f} s)" if cpu else ""
        print(f"  {label:<58} {p(times, 0.5) * 1000:>9.1f} {p(times, 0.95) * 1000:>9.1f}{extra}")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--households", type=int, default=60_000)
    parser.add_argument("--visits", type=int, default=3_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--keep",
        metavar="FILE",
        help="SQLite only: build the county into FILE, or measure the one already there",
    )
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    print(
        f"{args.households:,} households, {args.visits:,} visits; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    for kind in kinds:
        with bench_database(kind, args.keep) as (url, folder):
            built = kind == "sqlite" and args.keep and os.path.exists(args.keep)
            config = {
                "TESTING": True,
                "ENV": "test",
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": url,
                "INSTANCE_PATH": folder,
            }
            app = create_app(config)
            with app.app_context():
                upgrade()
                build_times = {}
                if not built:
                    writer = Writer()
                    started = time.perf_counter()
                    county = County(args.households, args.visits, time.time())
                    build_times = build(county, writer)
                    build_times["total"] = time.perf_counter() - started
                    writer.close()
            results = measure(app, args.runs)
            report(kind, build_times, results)
            with app.app_context():
                db.engine.dispose()
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
