"""`flask coverage snapshot`: judge a closed month for every village at once (run from cron on
the 1st), so the first supervisor to open last month's overview does not wait for it."""

import time

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Town, User, utcnow
from . import snapshots, stats
from .periods import current_month, local_zone, parse

coverage_cli = AppGroup("coverage", help="Coverage pages.")


@coverage_cli.command("snapshot")
@click.option("--month", help="YYYY-MM, a month that is over (default: the last one).")
def snapshot_command(month: str | None) -> None:
    """Judge a closed month's households and overdue households for every village."""
    now = utcnow()
    zone = local_zone()
    period = parse(month, now, zone) if month else current_month(now, zone).previous()
    if period is None or period.month is None or period.end > now:
        raise click.ClickException("Give a month that is over, as YYYY-MM.")
    towns = db.session.scalars(select(Town).options(selectinload(Town.villages))).all()
    everyone = User(username="snapshot", role="admin")  # counts every village; never stored
    scope = stats.Scope(everyone, [(town, list(town.villages)) for town in towns if town.villages])
    started = time.perf_counter()
    villages = snapshots.closed_month(scope, period, now) or {}
    seconds = time.perf_counter() - started
    click.echo(
        f"{period.month_keys[0]}: {len(villages)} villages judged in {seconds * 1000:.0f} ms."
    )
