"""Flask commands: users, registry import, demo data."""

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from . import audit, passwords
from .coverage.cli import coverage_cli
from .demo import demo_cli
from .extensions import db
from .importer import import_cli
from .models import ROLES, Town, User, Village
from .selfreport.cli import tokens_cli

user_cli = AppGroup("user", help="Manage accounts.")


def _password_option(function):
    return click.option(
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="The new password (asked for when not given).",
    )(function)


def _find_user(username: str) -> User:
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None:
        raise click.ClickException(f"No user named {username!r}.")
    return user


def _check_password(password: str) -> None:
    reason = passwords.problem(password)
    if reason:
        raise click.ClickException(f"The password {reason}.")


@user_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", "display_name", help="Name shown to others (default: the username).")
@click.option("--phone")
@click.option("--town", help="Town name (supervisors and cadres).")
@click.option("--village", "villages", multiple=True, help="Limit a supervisor to a village.")
@_password_option
def create_user(username, role, display_name, phone, town, villages, password):
    """Create an account."""
    _check_password(password)
    if db.session.scalar(select(User).where(func.lower(User.username) == username.lower())):
        raise click.ClickException(f"A user named {username!r} exists.")
    town_row = None
    if town:
        town_row = db.session.scalar(select(Town).where(Town.name == town))
        if town_row is None:
            raise click.ClickException(f"No town named {town!r}.")
    if role == "supervisor" and town_row is None:
        raise click.ClickException("A supervisor needs --town.")
    village_rows = []
    for name in villages:
        village = db.session.scalar(
            select(Village).where(Village.name == name, Village.town_id == town_row.id)
        )
        if village is None:
            raise click.ClickException(f"No village named {name!r} in {town}.")
        village_rows.append(village)
    user = User(
        username=username,
        display_name=display_name or username,
        phone=phone,
        role=role,
        town=town_row,
        villages=village_rows,
        password_hash=passwords.hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    audit.record("create", "user", user.id, after={"username": username, "role": role})
    db.session.commit()
    click.echo(f"Created {role} {username}.")


@user_cli.command("list")
def list_users():
    """List accounts."""
    for user in db.session.scalars(select(User).order_by(User.role, User.username)):
        state = "enabled" if user.enabled else "disabled"
        login = "" if user.password_hash else " (no password yet)"
        scope = ", ".join(v.name for v in user.villages) or (user.town.name if user.town else "")
        click.echo(f"{user.username}\t{user.role}\t{user.display_name}\t{scope}\t{state}{login}")


def _set_enabled(username: str, enabled: bool) -> None:
    user = _find_user(username)
    user.enabled = enabled
    user.session_epoch += 1
    audit.record("update", "user", user.id, after={"enabled": enabled})
    db.session.commit()


@user_cli.command("disable")
@click.argument("username")
def disable_user(username):
    """Disable an account and end its sessions."""
    _set_enabled(username, False)
    click.echo(f"Disabled {username}.")


@user_cli.command("enable")
@click.argument("username")
def enable_user(username):
    """Enable a disabled account."""
    _set_enabled(username, True)
    click.echo(f"Enabled {username}.")


@user_cli.command("reset-password")
@click.argument("username")
@_password_option
def reset_password(username, password):
    """Set a new password and end the account's sessions."""
    _check_password(password)
    user = _find_user(username)
    user.password_hash = passwords.hash_password(password)
    user.session_epoch += 1
    audit.record("update", "user", user.id, after={"password": "reset"})
    db.session.commit()
    click.echo(f"Password reset for {username}.")


def register_commands(app) -> None:
    for group in (user_cli, demo_cli, import_cli, tokens_cli, coverage_cli):
        app.cli.add_command(group)
