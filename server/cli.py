"""Flask commands: users, registry import, demo data."""

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import func, select

from . import accounts
from .coverage.cli import coverage_cli
from .demo import demo_cli
from .extensions import db
from .importer import import_cli
from .models import ROLES, Town, User, Village
from .selfreport.cli import tokens_cli

user_cli = AppGroup("user", help="Manage accounts.")


def _password_options(function):
    function = click.option(
        "--one-time",
        is_flag=True,
        help="Make up a one-time password, print it; it must be changed at first sign-in.",
    )(function)
    return click.option("--password", help="The new password (asked for when not given).")(function)


def _chosen_password(password: str | None, one_time: bool) -> str | None:
    """None for a one-time password; otherwise the given or prompted one."""
    if one_time:
        return None
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _find_user(username: str) -> User:
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None:
        raise click.ClickException(f"No user named {username!r}.")
    return user


def _find_town(name: str | None) -> Town | None:
    if not name:
        return None
    town = db.session.scalar(select(Town).where(Town.name == name))
    if town is None:
        raise click.ClickException(f"No town named {name!r}.")
    return town


def _find_villages(town: Town | None, names) -> tuple[Village, ...]:
    if names and town is None:
        raise click.ClickException("--village needs --town.")
    found = []
    for name in names:
        village = db.session.scalar(
            select(Village).where(Village.name == name, Village.town_id == town.id)
        )
        if village is None:
            raise click.ClickException(f"No village named {name!r} in {town.name}.")
        found.append(village)
    return tuple(found)


def _refused(error: accounts.AccountError) -> click.ClickException:
    with force_locale("en"):  # the commands speak English, as their help does
        return click.ClickException(str(error.message))


def _done(message: str, one_time: str | None) -> None:
    db.session.commit()
    click.echo(message)
    if one_time:
        click.echo(f"One-time password (must be changed at first sign-in): {one_time}")


@user_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", "display_name", default="", help="Name shown to others.")
@click.option("--phone")
@click.option("--town", help="Town name (supervisors and cadres).")
@click.option("--village", "villages", multiple=True, help="Limit a supervisor to a village.")
@_password_options
def create_user(username, role, display_name, phone, town, villages, password, one_time):
    """Create an account."""
    town_row = _find_town(town)
    kind = ("village" if villages else "town") if role == "supervisor" else role
    new = accounts.NewAccount(
        username, kind, display_name, phone, town_row, _find_villages(town_row, villages)
    )
    try:
        _, made_up = accounts.create(None, new, _chosen_password(password, one_time))
    except accounts.AccountError as error:
        raise _refused(error) from None
    _done(f"Created {role} {username}.", made_up)


@user_cli.command("list")
def list_users():
    """List accounts."""
    for user in db.session.scalars(select(User).order_by(User.role, User.username)):
        state = "enabled" if user.enabled else "disabled"
        login = "" if user.password_hash else " (no password yet)"
        if user.must_change_password:
            login = " (one-time password)"
        scope = ", ".join(v.name for v in user.villages) or (user.town.name if user.town else "")
        click.echo(f"{user.username}\t{user.role}\t{user.display_name}\t{scope}\t{state}{login}")


@user_cli.command("disable")
@click.argument("username")
def disable_user(username):
    """Disable an account and end its sessions."""
    accounts.set_enabled(None, _find_user(username), False)
    _done(f"Disabled {username}.", None)


@user_cli.command("enable")
@click.argument("username")
def enable_user(username):
    """Enable a disabled account."""
    accounts.set_enabled(None, _find_user(username), True)
    _done(f"Enabled {username}.", None)


@user_cli.command("reset-password")
@click.argument("username")
@_password_options
def reset_password(username, password, one_time):
    """Set a new password and end the account's sessions."""
    user = _find_user(username)
    try:
        made_up = accounts.reset_password(None, user, _chosen_password(password, one_time))
    except accounts.AccountError as error:
        raise _refused(error) from None
    _done(f"Password reset for {username}.", made_up)


def register_commands(app) -> None:
    for group in (user_cli, demo_cli, import_cli, tokens_cli, coverage_cli):
        app.cli.add_command(group)
