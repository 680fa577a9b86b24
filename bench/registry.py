"""County-scale registry benchmark: build time, API latency on SQLite and PostgreSQL, XLSX import.

Builds a county of ten towns shaped like Taihe (60,000 households, about 100,000 members, with
cadres and six months of visits) with the demo generator, in a fresh SQLite file and in a fresh
PostgreSQL database, then times the registry API through Flask's test client, signed in as a
town supervisor, as an admin (the whole county) and as a cadre. Then writes the county registry
as one XLSX file and times its import in a child process (time and peak memory).

    make bench
    .venv/bin/python bench/registry.py --households 60000 --requests 100
    .venv/bin/python bench/registry.py --households 6000 --no-postgres   # a quick look

Targets: p95 under 100 ms for a page of 50; the import streamed, under 500 MB.
"""

import argparse
import importlib
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote

import psycopg
from flask_migrate import upgrade
from openpyxl import Workbook
from sqlalchemy import and_, func, select
from sqlalchemy.engine import make_url

from server import access, create_app, pagination
from server.demodata import build_registry
from server.demodata.places import village_names
from server.extensions import db
from server.importer.columns import COLUMNS
from server.models import Assignment, Household, Member, Town, User, Village
from server.passwords import hash_password

# Towns of Zichuan district with made-up 9-digit codes; Taihe is built last, so its households
# have the highest ids: the worst case for walking the primary key in order.
TOWNS = (
    ("寨里镇", "370302101"),
    ("罗村镇", "370302102"),
    ("洪山镇", "370302103"),
    ("龙泉镇", "370302104"),
    ("双杨镇", "370302105"),
    ("岭子镇", "370302106"),
    ("西河镇", "370302108"),
    ("昆仑镇", "370302109"),
    ("将军路街道", "370302110"),
    ("太河镇", "370302107"),
)
VILLAGES_PER_TOWN = 20
PASSWORD = "bench-password"
XLSX_COLUMNS = tuple(column.header for column in COLUMNS if column.field != "town")
SEX_NAMES = {"M": "男", "F": "女"}


@dataclass
class Figures:
    """What one database produced: build time and latency samples per (request, role)."""

    build_seconds: float = 0.0
    counts: dict = field(default_factory=dict)
    samples: dict = field(default_factory=dict)  # (case, role) -> ([wall ms], [cpu ms])


def app_for(url: str, instance: Path):
    app = create_app(
        {
            "ENV": "development",
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(instance),
        }
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return app


# --- databases -------------------------------------------------------------------------------


@contextmanager
def sqlite_database(workdir: Path):
    yield f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:8]}.db'}"


@contextmanager
def postgres_database(server_url: str):
    """A throwaway database on the server, dropped afterwards (as the tests do)."""
    url = make_url(server_url)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(False)
    name = f"zoufang_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_available(server_url: str) -> bool:
    url = make_url(server_url).set(drivername="postgresql", database="postgres")
    try:
        with psycopg.connect(url.render_as_string(False), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


# --- building the county ---------------------------------------------------------------------


def build_county(households: int, seed: int, today: date) -> dict:
    """Ten towns of equal size in the current app's database; returns the showcase cadre ids."""
    names = village_names(VILLAGES_PER_TOWN * len(TOWNS), random.Random(seed))
    per_town = households // len(TOWNS)
    showcase = {}
    for index, (town_name, town_code) in enumerate(TOWNS):
        count = per_town + (households - per_town * len(TOWNS) if index == len(TOWNS) - 1 else 0)
        built = build_registry(
            db.session,
            households=count,
            villages=VILLAGES_PER_TOWN,
            seed=seed,
            today=today,
            town_name=town_name,
            town_code=town_code,
            village_names=names[index * VILLAGES_PER_TOWN : (index + 1) * VILLAGES_PER_TOWN],
        )
        db.session.commit()
        showcase[town_name] = built.showcase_cadre_id
    return showcase


def add_bench_users(showcase: dict) -> None:
    """A supervisor of Taihe, an admin, and Taihe's showcase cadre, all able to sign in."""
    password_hash = hash_password(PASSWORD)
    taihe = db.session.scalar(select(Town).where(Town.name == "太河镇"))
    db.session.add_all(
        [
            User(
                username="bench-supervisor",
                display_name="镇扶贫办",
                role="supervisor",
                town=taihe,
                password_hash=password_hash,
            ),
            User(
                username="bench-admin",
                display_name="管理员",
                role="admin",
                password_hash=password_hash,
            ),
        ]
    )
    cadre = db.session.get(User, showcase["太河镇"])
    cadre.username, cadre.password_hash = "bench-cadre", password_hash
    db.session.commit()


def analyze() -> None:
    """Fresh statistics, as PostgreSQL's autovacuum would gather after a bulk load."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")


def counts() -> dict:
    def count(model):
        return db.session.scalar(select(func.count()).select_from(model))

    return {
        "households": count(Household),
        "members": count(Member),
        "cadres": db.session.scalar(select(func.count()).where(User.role == "cadre")),
    }


# --- the requests ----------------------------------------------------------------------------


def request_cases(username: str, rng: random.Random) -> dict:
    """Request URLs per case for one user; each case is a list to cycle through."""
    user = db.session.scalar(select(User).where(User.username == username))
    scope = access.households(user).order_by(Household.id)
    columns = (Household.id, Household.village_id, Household.head_name, Household.code)
    rows = db.session.execute(scope.with_only_columns(*columns)).all()
    ids = [r.id for r in rows]
    village_id = rows[len(rows) // 2].village_id
    names = [r.head_name for r in rng.sample(rows, min(50, len(rows)))]
    prefixes = [r.code[:14] for r in rng.sample(rows, min(50, len(rows)))]
    cases = {
        "list, first page of 50": ["/api/households?limit=50"],
        "list, village + class filter": [
            f"/api/households?limit=50&village_id={village_id}&klass=B"
        ],
        "search, head name": [f"/api/households?limit=50&q={quote(name)}" for name in names],
        "search, code prefix": [f"/api/households?limit=50&q={prefix}" for prefix in prefixes],
        "household detail": [f"/api/households/{i}" for i in rng.sample(ids, min(100, len(ids)))],
    }
    if len(ids) > 100:
        deep = [pagination.encode(ids[int(len(ids) * share)]) for share in (0.8, 0.85, 0.9, 0.95)]
        cases["list, deep keyset page"] = [
            f"/api/households?limit=50&cursor={cursor}" for cursor in deep
        ]
    return cases


def sign_in(app, username: str):
    client = app.test_client()
    response = client.post("/api/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return client


def time_requests(client, urls: list[str], requests: int) -> tuple[list[float], list[float]]:
    """Wall-clock and this process's CPU milliseconds per request.

    The CPU time holds the app's own work (and SQLite's, which runs in-process) but not the
    time spent waiting for a core on a busy machine, nor PostgreSQL's server work."""
    for url in urls[:5]:  # warm caches, as a running server has them
        client.get(url)
    wall, cpu = [], []
    for n in range(requests):
        url = urls[n % len(urls)]
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return wall, cpu


CASES = (
    "list, first page of 50",
    "list, deep keyset page",
    "list, village + class filter",
    "search, head name",
    "search, code prefix",
    "household detail",
)
ROLES = (
    ("town supervisor", "bench-supervisor"),
    ("admin", "bench-admin"),
    ("cadre", "bench-cadre"),
)


def measure(app, requests: int, seed: int) -> dict:
    samples = {}
    for role, username in ROLES:
        with app.app_context():
            cases = request_cases(username, random.Random(seed))
        client = sign_in(app, username)
        for case, urls in cases.items():
            samples[case, role] = time_requests(client, urls, requests)
    return samples


def run_backend(url: str, args, workdir: Path) -> Figures:
    app = app_for(url, workdir / "instance")
    figures = Figures()
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        showcase = build_county(args.households, args.seed, args.today)
        figures.build_seconds = time.perf_counter() - started
        add_bench_users(showcase)
        analyze()
        figures.counts = counts()
        db.session.remove()
    figures.samples = measure(app, args.requests, args.seed)
    with app.app_context():
        db.engine.dispose()
    return figures


# --- the XLSX import -------------------------------------------------------------------------


def write_registry_xlsx(path: Path) -> int:
    """The current database's registry as the town office keeps it: one row per member."""
    active = and_(Assignment.household_id == Household.id, Assignment.ended_at.is_(None))
    query = (
        select(
            Household.code,
            Village.name,
            Household.head_name,
            Member.name,
            Member.id_number,
            Member.relation,
            Member.birth_year,
            Member.sex,
            Member.health,
            Member.labour_capacity,
            Household.klass,
            Household.phone,
            User.display_name,
            User.phone,
        )
        .join(Member.household)
        .join(Household.village)
        .outerjoin(Assignment, active)
        .outerjoin(User, User.id == Assignment.cadre_id)
        .order_by(Household.id, Member.position)
    )
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("户籍成员")
    sheet.append(XLSX_COLUMNS)
    rows = 0
    for row in db.session.execute(query.execution_options(yield_per=2_000)):
        values = list(row)
        values[7] = SEX_NAMES[values[7]]
        sheet.append(values)
        rows += 1
    workbook.save(path)
    return rows


# >>> XLSX import hook -------------------------------------------------------------------------
# The importer is written separately:
#     server.importer.import_file(path, town_name=..., progress=None)
# Until it exists, the bench says so and prints everything else.


def time_xlsx_import(path: Path, database_url: str, town_name: str, workdir: Path) -> dict:
    """Import `path` into a fresh database in a child process: its time and peak memory."""
    command = [sys.executable, __file__, "--import-child", str(path), database_url, town_name]
    child = subprocess.run(command, capture_output=True, text=True, cwd=workdir, check=False)
    lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
    if child.returncode != 0 or not lines:
        return {"error": (child.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1])


def import_child(path: str, database_url: str, town_name: str) -> None:
    """Runs in the child process: migrate, import, print one JSON line."""
    app = app_for(database_url, Path(tempfile.mkdtemp(prefix="zoufang-import-")))
    with app.app_context():
        upgrade()
        if db.session.scalar(select(Town).where(Town.name == town_name)) is None:
            db.session.add(Town(name=town_name, settings={}))
            db.session.commit()
        import_file = getattr(importlib.import_module("server.importer"), "import_file", None)
        if import_file is None:
            print(json.dumps({"skipped": "server.importer has no import_file yet"}))
            return
        started = time.perf_counter()
        result = import_file(path, town_name=town_name, progress=None)
        seconds = time.perf_counter() - started
        households = db.session.scalar(select(func.count()).select_from(Household))
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_mb": peak_rss_mb(),
                "households": households,
                "result": repr(result)[:200],
            }
        )
    )


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# <<< XLSX import hook -------------------------------------------------------------------------


def run_import(args, workdir: Path, sqlite_url: str, import_urls: dict) -> list[str]:
    """Write the county as one XLSX from the SQLite build, then time its import per database."""
    app = app_for(sqlite_url, workdir / "instance")
    path = workdir / "county-registry.xlsx"
    with app.app_context():
        started = time.perf_counter()
        rows = write_registry_xlsx(path)
        written = time.perf_counter() - started
        db.engine.dispose()
    size_mb = path.stat().st_size / 1024 / 1024
    lines = [
        f"XLSX written: {rows:,} member rows, {size_mb:.1f} MB, in {written:.1f} s ({path.name})"
    ]
    for label, context in import_urls.items():
        with context as url:
            outcome = time_xlsx_import(path, url, "太河镇", workdir)
        lines.append(f"XLSX import into {label}: {describe_import(outcome)}")
    return lines


def describe_import(outcome: dict) -> str:
    if "skipped" in outcome:
        return f"skipped ({outcome['skipped']})"
    if "error" in outcome:
        return f"failed: {outcome['error']}"
    return (
        f"{outcome['seconds']:.1f} s, peak memory {outcome['peak_rss_mb']:.0f} MB, "
        f"{outcome['households']:,} households (target: streamed, under 500 MB)"
    )


# --- the report ------------------------------------------------------------------------------


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = statistics.quantiles(ordered, n=20)[-1] if len(ordered) > 1 else ordered[0]
    return statistics.median(ordered), p95


def report(results: dict[str, Figures]) -> str:
    labels = list(results)
    first = next(iter(results.values()))
    lines = [
        f"County registry: {first.counts['households']:,} households, "
        f"{first.counts['members']:,} members, {first.counts['cadres']:,} cadres, "
        f"{len(TOWNS)} towns of {VILLAGES_PER_TOWN} villages",
        "Build (plan + bulk insert + commit): "
        + ", ".join(f"{label} {results[label].build_seconds:.1f} s" for label in labels),
        "",
        " " * 47 + "".join(f"{label:>24}" for label in labels),
        f"{'request (pages of 50)':<30}{'as':<17}"
        + f"{'p50':>8}{'p95':>8}{'cpu p95':>8}" * len(labels),
    ]
    for case in CASES:
        for role, _ in ROLES:
            if (case, role) not in first.samples:
                continue
            cells = ""
            for label in labels:
                wall, cpu = results[label].samples[case, role]
                p50, p95 = percentiles(wall)
                cells += (
                    f"{p50:>8.1f}{p95:>7.1f}{'!' if p95 >= 100 else ' '}{percentiles(cpu)[1]:>8.1f}"
                )
            lines.append(f"{case:<30}{role:<17}{cells}")
    lines.append(
        "(milliseconds through Flask's test client; ! marks a p95 at or over the 100 ms target;"
        "\n cpu: this process only, so without waiting for a busy machine's cores"
        " and without PostgreSQL's own work)"
    )
    return "\n".join(lines)


def load_note(when: str) -> str:
    """Latency on a shared machine depends on what else runs: say how busy it was."""
    one, five, _ = os.getloadavg()
    return f"Load average {when}: {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--today", type=date.fromisoformat, default=date.today())
    parser.add_argument("--requests", type=int, default=100, help="per request kind and role")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-import", action="store_true")
    parser.add_argument("--import-child", nargs=3, metavar=("XLSX", "DATABASE_URL", "TOWN"))
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.import_child:
        import_child(*args.import_child)
        return
    use_postgres = not args.no_postgres and postgres_available(args.postgres_url)
    start_load = load_note("at the start")
    with tempfile.TemporaryDirectory(prefix="zoufang-bench-") as tmp:
        workdir = Path(tmp)
        results = {}
        with sqlite_database(workdir) as sqlite_url:
            results["SQLite"] = run_backend(sqlite_url, args, workdir)
            if use_postgres:
                with postgres_database(args.postgres_url) as pg_url:
                    results["PostgreSQL"] = run_backend(pg_url, args, workdir)
            print(report(results))
            print(start_load)
            print(load_note("after the requests"))
            if not use_postgres:
                print("PostgreSQL: not measured (unavailable or --no-postgres)")
            if not args.no_import:
                targets = {"SQLite": sqlite_database(workdir)}
                if use_postgres:
                    targets["PostgreSQL"] = postgres_database(args.postgres_url)
                print("\n".join(run_import(args, workdir, sqlite_url, targets)))


if __name__ == "__main__":
    main()
