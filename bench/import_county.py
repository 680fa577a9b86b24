"""Import a county-scale registry from one XLSX file; print the time, the peak memory, and
the time of a bare openpyxl read-only pass over the same file, side by side.

    .venv/bin/python bench/import_county.py [--households 60000]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/import_county.py

Builds a synthetic file (60,000 households, about 150,000 member rows, 10 towns, 300 villages,
a cadre per 8 households), then in a child process (so its peak RSS is the import's own)
imports it into a fresh database, imports it again (nothing changes), imports a copy with 1%
of the households changed, and reads the file once with openpyxl in read-only mode (the
yardstick: what merely reading the file took before). Each import's time is printed as a ratio
to the openpyxl pass. SQLite always; PostgreSQL too when DATABASE_URL is set.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.importer.columns import COLUMNS  # noqa: E402 (after the path is set)

HEADER = [column.header for column in COLUMNS]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "建国秀兰伟芳军丽强敏磊静洋艳勇娟杰涛明霞超平刚华"
KLASSES = "A" * 52 + "B" * 39 + "C" * 8 + "D"  # Taihe's shares: 3112/2312/474/54
HEALTH = ["健康"] * 6 + ["长期慢性病", "大病", "残疾"]


def id_number(index: int, region: str) -> str:
    from server.idcard import check_digit

    born = date(1940, 1, 1) + timedelta(days=(index // 1000) * 97 % 25000)
    first17 = f"{region}{born:%Y%m%d}{index % 1000:03d}"
    return first17 + check_digit(first17)


def name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))


def county_rows(households: int, seed: int = 7):
    """(row values) for every member, households in order, 1 to 3 members each."""
    rng = random.Random(seed)
    person = 0
    for h in range(households):
        town = h * 10 // households
        village = f"村{town:02d}{h * 300 // households % 30:02d}"
        klass, phone = rng.choice(KLASSES), f"138{h:08d}"
        cadre = f"{town:02d}{h // 8:06d}"  # 8 households each, never across towns
        size = rng.choices((1, 2, 3, 4), weights=(20, 30, 30, 20))[0]
        head = name(rng)
        for position in range(size):
            number = id_number(person, f"3703{town + 1:02d}")
            person += 1
            yield [
                f"H{h:07d}",
                f"镇{town:02d}",
                village,
                head,
                head if position == 0 else name(rng),
                number,
                ("户主", "配偶", "子", "女")[position],
                None,
                None,
                rng.choice(HEALTH),
                "普通劳动力",
                klass,
                phone,
                f"干部{cadre}",
                f"139{cadre}",
            ]


def write_file(path: Path, households: int, change_every: int = 0) -> int:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("户籍")
    sheet.append(HEADER)
    rows = 0
    for values in county_rows(households):
        if change_every and int(values[0][1:]) % change_every == 0:
            values[9] = "大病"  # a changed health status
        sheet.append(values)
        rows += 1
    workbook.save(path)
    return rows


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def openpyxl_pass(path: str) -> dict:
    """Every cell of the first sheet read once, as the importer read files before."""
    import openpyxl

    started, cpu = time.perf_counter(), time.process_time()
    with open(path, "rb") as handle:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        rows = sum(1 for _row in workbook.worksheets[0].iter_rows(values_only=True))
        workbook.close()
    return {
        "step": "openpyxl read-only pass",
        "rows": rows,
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
    }


def child(database_url: str, files: list[str]) -> None:
    """Runs in its own process: migrate, import each file, then time an openpyxl pass."""
    from flask_migrate import upgrade

    from server import create_app
    from server.importer import import_file

    instance = tempfile.mkdtemp(prefix="zoufang-bench-")
    config = {
        "ENV": "test",
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": instance,
    }
    app = create_app(config)
    with app.app_context():
        upgrade()
        results = [{"step": "ready", "peak_rss_mb": round(peak_rss_mb())}]
        for path in files:
            started, cpu = time.perf_counter(), time.process_time()
            report = import_file(path)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            counts = report.counts()
            results.append(
                {
                    "file": Path(path).name,
                    "seconds": round(seconds, 1),
                    "cpu_seconds": round(cpu, 1),
                    "peak_rss_mb": round(peak_rss_mb()),
                    "errors": len(report.errors),
                    **{
                        k: counts[k]
                        for k in (
                            "rows",
                            "households_created",
                            "households_updated",
                            "households_unchanged",
                            "members_updated",
                            "cadres_created",
                        )
                    },
                }
            )
        # Last, so that the imports' peak RSS is their own.
        results.append(openpyxl_pass(files[0]))
    print(json.dumps(results))


def fresh_postgres(server_url: str):
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server_url.replace("postgres://", "postgresql://", 1))
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(False)
    name = f"zoufang_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url.set(database=name).render_as_string(False), drop


def run(label: str, database_url: str, files: list[Path]) -> None:
    command = [sys.executable, __file__, "--child", database_url, *map(str, files)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        sys.exit(done.stderr)
    output = done.stdout
    results = json.loads(output.strip().splitlines()[-1])
    print(f"\n{label}: app ready at {results[0]['peak_rss_mb']} MB RSS")
    yardstick = results[-1]
    print(
        f"  {yardstick['step']:<26} {yardstick['seconds']:>6.1f} s "
        f"({yardstick['cpu_seconds']} s CPU), {yardstick['rows']} rows"
    )
    for r in results[1:-1]:
        wall = r["seconds"] / max(yardstick["seconds"], 0.1)
        cpu = r["cpu_seconds"] / max(yardstick["cpu_seconds"], 0.1)
        print(
            f"  {r['file']:<26} {r['seconds']:>6.1f} s ({r['cpu_seconds']} s CPU)  "
            f"import / openpyxl pass: {wall:.2f} wall, {cpu:.2f} CPU  "
            f"peak RSS {r['peak_rss_mb']} MB  "
            f"rows {r['rows']}  households created {r['households_created']} / updated "
            f"{r['households_updated']} / unchanged {r['households_unchanged']}  members changed "
            f"{r['members_updated']}  cadres created {r['cadres_created']}  errors {r['errors']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=60_000)
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1:])
        return
    with tempfile.TemporaryDirectory(prefix="zoufang-bench-") as scratch:
        county, changed = Path(scratch) / "county.xlsx", Path(scratch) / "county-changed.xlsx"
        started = time.perf_counter()
        rows = write_file(county, args.households)
        write_file(changed, args.households, change_every=100)
        size = county.stat().st_size / 1e6
        print(
            f"county file: {args.households} households, {rows} member rows, {size:.1f} MB "
            f"(written in {time.perf_counter() - started:.0f} s, twice)"
        )
        files = [county, county, changed]
        if not args.skip_sqlite:
            run("SQLite", f"sqlite:///{Path(scratch) / 'bench.db'}", files)
        if os.environ.get("DATABASE_URL", "").startswith("postgres"):
            url, drop = fresh_postgres(os.environ["DATABASE_URL"])
            try:
                run("PostgreSQL", url, files)
            finally:
                drop()


if __name__ == "__main__":
    main()
