"""The demo town: `flask demo seed` builds a registry shaped like Taihe, with demo logins."""

import time
from datetime import UTC, date, datetime, timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select, update

from . import audit, passwords
from .demodata import TAIHE_HOUSEHOLDS, RegistryBuild, build_registry
from .extensions import db
from .models import Household, NeedsAction, Town, User, Village, Visit, VisitFlag

demo_cli = AppGroup("demo", help="Demo data.")

DEMO_PASSWORD = "zoufang-demo"


@demo_cli.command("seed")
@click.option("--seed", default=1, show_default=True, help="Same seed and date, same town.")
@click.option("--households", default=TAIHE_HOUSEHOLDS, show_default=True)
@click.option("--villages", default=20, show_default=True)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The date the visit history ends at (default: today).",
)
@click.option("--if-empty", is_flag=True, help="Do nothing when households exist.")
def seed_command(seed, households, villages, today, if_empty):
    """Build the demo town of Taihe with six months of visits, and the demo logins."""
    if current_app.config["ENV"] == "production":
        raise click.ClickException("Demo data is refused on a production configuration.")
    if db.session.scalar(select(Household.id).limit(1)) is not None:
        if if_empty:
            click.echo("Households exist: the demo town is not loaded.")
            return
        raise click.ClickException("The database already holds households; use an empty one.")
    started = time.perf_counter()
    try:
        built = build_registry(
            db.session,
            households=households,
            villages=villages,
            seed=seed,
            today=today.date() if today else date.today(),
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    logins = _demo_accounts(built)
    _settle_the_past(built, today.date() if today else date.today())
    audit.record("seed", "town", built.town_id, after={"seed": seed, "households": households})
    db.session.commit()
    _report(built, logins, time.perf_counter() - started)


def _demo_accounts(built: RegistryBuild) -> list[tuple[str, str]]:
    """Create the demo logins, all with DEMO_PASSWORD; existing usernames are left alone."""
    password_hash = passwords.hash_password(DEMO_PASSWORD)  # once: argon2 is slow on purpose
    town = db.session.get(Town, built.town_id)
    showcase = db.session.get(Village, built.village_ids[built.showcase_village])
    town_households = built.households
    village_households = db.session.scalar(
        select(func.count()).select_from(Household).where(Household.village_id == showcase.id)
    )
    wanted = [
        ("admin", "admin", "管理员", None, [], "everything, every town"),
        (
            "supervisor",
            "supervisor",
            "镇扶贫办",
            town,
            [],
            f"the whole town {town.name} ({town_households:,} households)",
        ),
        (
            "cunwei",
            "supervisor",
            f"{showcase.name}两委",
            town,
            [showcase],
            f"{showcase.name} only ({village_households:,} households)",
        ),
    ]
    logins = []
    for username, role, name, user_town, villages, sees in wanted:
        if _username_taken(username):
            logins.append((username, "exists already, left unchanged"))
            continue
        db.session.add(
            User(
                username=username,
                display_name=name,
                role=role,
                town=user_town,
                villages=villages,
                password_hash=password_hash,
            )
        )
        logins.append((username, sees))
    logins.append(("cadre", _showcase_cadre(built, password_hash)))
    db.session.flush()
    return logins


# What the town office wrote when it had dealt with something (the demo's past is not all open).
HANDLED_NOTES = (
    "已入户核实，落实临时救助。",
    "已电话联系家属，协调医疗报销。",
    "村两委已上门查看，纳入重点关注。",
)
CHECKED_COMMENTS = ("已电话核实，走访属实。", "山区信号差，定位偏差，已核实。")


def _settle_the_past(built: RegistryBuild, today: date) -> None:
    """The town office has dealt with what was raised more than two weeks ago (needs-action
    items) and checked the flags of visits older than a month; what is recent stays open."""
    office = db.session.scalar(
        select(User)
        .where(User.role == "supervisor", User.town_id == built.town_id)
        .order_by(User.id)  # the town office's login comes before the villages'
    )
    if office is None:
        return
    moment = datetime.combine(today, datetime.min.time(), UTC)
    town = select(Household.id).join(Village).where(Village.town_id == built.town_id)
    items = db.session.scalars(
        select(NeedsAction).where(
            NeedsAction.household_id.in_(town), NeedsAction.raised_at < moment - timedelta(14)
        )
    )
    for n, item in enumerate(items):
        item.handled_at, item.handled_by_id = item.raised_at + timedelta(days=2), office.id
        item.note = HANDLED_NOTES[n % len(HANDLED_NOTES)]
    flags = db.session.execute(
        select(VisitFlag, Visit.visited_at)
        .join(Visit)
        .where(Visit.household_id.in_(town), Visit.visited_at < moment - timedelta(30))
    )
    for n, (flag, visited_at) in enumerate(flags):
        flag.checked_at, flag.checked_by_id = visited_at + timedelta(days=3), office.id
        flag.comment = CHECKED_COMMENTS[n % len(CHECKED_COMMENTS)]


def _username_taken(username: str) -> bool:
    query = select(User.id).where(func.lower(User.username) == username)
    return db.session.scalar(query) is not None


def _showcase_cadre(built: RegistryBuild, password_hash: str) -> str:
    """The generated cadre of the showcase households signs in as `cadre`."""
    if built.showcase_cadre_id is None or _username_taken("cadre"):
        return "exists already, left unchanged"
    db.session.execute(
        update(User)
        .where(User.id == built.showcase_cadre_id)
        .values(username="cadre", password_hash=password_hash)
    )
    cadre = db.session.get(User, built.showcase_cadre_id)
    return (
        f"{cadre.display_name}, a cadre: {built.showcase_households} households in "
        f"{built.showcase_village}, {built.showcase_overdue} overdue"
    )


def _report(built: RegistryBuild, logins, seconds: float) -> None:
    classes = ", ".join(f"{k} {n:,}" for k, n in built.by_klass.items())
    click.echo(
        f"Demo town loaded in {seconds:.1f} s: {built.households:,} households ({classes}), "
        f"{built.members:,} people, {len(built.village_ids)} villages, {built.cadres:,} cadres, "
        f"{built.visits:,} visits, {built.crops:,} crop records."
    )
    click.echo(f"Demo logins (password {DEMO_PASSWORD}):")
    for username, sees in logins:
        click.echo(f"  {username:<11} {sees}")
