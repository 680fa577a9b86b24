"""Accounts: creating them, disabling and enabling them, one-time passwords, and a person
changing their own password. The office pages and the `flask user` commands both call these,
so an account made either way is checked, scoped and audited the same.

An account's kind is what the office calls it: a cadre (帮扶干部), a village committee
(村两委, a supervisor limited to villages), a town supervisor (镇扶贫办, a supervisor of a
whole town) or an admin.
"""

import re
import secrets
from dataclasses import dataclass

from flask_babel import lazy_gettext as _
from sqlalchemy import func, select

from . import access, audit, passwords
from .extensions import db
from .models import Town, User, Village

KINDS = ("cadre", "village", "town", "admin")
KIND_LABELS = {
    "cadre": _("Cadre account"),
    "village": _("Village committee account"),
    "town": _("Town supervisor account"),
    "admin": _("Administrator account"),
}
_ROLE_OF_KIND = {"cadre": "cadre", "village": "supervisor", "town": "supervisor", "admin": "admin"}
USERNAME = re.compile(r"^[\w.@-]{2,64}$")
PHONE = re.compile(r"^[0-9+\- ]{5,32}$")
# No look-alike characters (0/o, 1/l/i): the person types it from a slip of paper.
_ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class AccountError(Exception):
    """A request that changes nothing, with the form field it is about."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field, self.message = field, message


@dataclass
class NewAccount:
    username: str
    kind: str
    display_name: str = ""
    phone: str | None = None
    town: Town | None = None
    villages: tuple[Village, ...] = ()


def kind_of(user: User) -> str:
    if user.role == "supervisor":
        return "village" if user.villages else "town"
    return user.role


def kinds_for(actor: User | None) -> tuple[str, ...]:
    """The kinds of account an actor may create; actor None is the command line."""
    if actor is None:
        return KINDS
    if actor.role == "admin":
        return ("cadre", "village", "town")
    if access.is_town_supervisor(actor):
        return ("cadre", "village")
    return ()


def one_time_password() -> str:
    """About 59 bits in three groups of four, easy to read out and to type on a phone."""
    chars = "".join(secrets.choice(_ONE_TIME_ALPHABET) for _ in range(12))
    return "-".join(chars[i : i + 4] for i in range(0, 12, 4))


def snapshot(user: User) -> dict:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "phone": user.phone,
        "kind": kind_of(user),
        "town": user.town.name if user.town else None,
        "villages": [v.name for v in user.villages],
        "enabled": user.enabled,
    }


def create(actor: User | None, new: NewAccount, password: str | None = None):
    """The new account and its one-time password (None when a password was given, which
    only the command line does). Raises AccountError and changes nothing on bad input."""
    username = new.username.strip()
    _check_new(actor, new, username)
    if password is not None:
        _check_password(password)
    one_time = None if password is not None else one_time_password()
    user = User(
        username=username,
        display_name=new.display_name.strip() or username,
        phone=(new.phone or "").strip() or None,
        role=_ROLE_OF_KIND[new.kind],
        town=new.town if new.kind != "admin" else None,
        villages=list(new.villages) if new.kind == "village" else [],
        password_hash=passwords.hash_password(password or one_time),
        must_change_password=one_time is not None,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("create", "user", user.id, after=snapshot(user), actor=actor)
    return user, one_time


def _check_new(actor: User | None, new: NewAccount, username: str) -> None:
    if new.kind not in kinds_for(actor):
        raise AccountError("kind", _("You cannot create this kind of account."))
    if not USERNAME.match(username):
        raise AccountError(
            "username", _("A username is 2 to 64 letters, digits or . _ - @, without spaces.")
        )
    taken = select(User.id).where(func.lower(User.username) == username.lower())
    if db.session.scalar(taken) is not None:
        raise AccountError("username", _("This username is taken."))
    if len(new.display_name.strip()) > 64:
        raise AccountError("display_name", _("A name is at most 64 characters."))
    if new.phone and not PHONE.match(new.phone.strip()):
        raise AccountError("phone", _("A phone number is 5 to 32 digits."))
    if new.kind == "admin":
        return
    if new.town is None:
        raise AccountError("town", _("Choose a town."))
    if actor is not None and actor.role != "admin" and new.town.id != actor.town_id:
        raise AccountError("town", _("You can only create accounts of your own town."))
    if new.kind == "village" and not new.villages:
        raise AccountError("villages", _("A village committee needs at least one village."))
    if any(v.town_id != new.town.id for v in new.villages):
        raise AccountError("villages", _("Every village must be in the account's town."))


def _check_password(password: str) -> None:
    if len(password) < passwords.MIN_LENGTH:
        raise AccountError(
            "password",
            _("A password has at least %(n)s characters.", n=passwords.MIN_LENGTH),
        )
    if len(password) > 256:
        raise AccountError("password", _("A password has at most 256 characters."))


def set_enabled(actor: User | None, user: User, enabled: bool) -> None:
    """Disabling ends every open session of the account at once (its epoch changes)."""
    if user.enabled == enabled:
        return
    user.enabled = enabled
    user.session_epoch += 1
    audit.record(
        "update", "user", user.id, {"enabled": not enabled}, {"enabled": enabled}, actor=actor
    )


def reset_password(actor: User | None, user: User, password: str | None = None) -> str | None:
    """A new one-time password (returned, shown once) or the given one; ends the account's
    sessions."""
    if password is not None:
        _check_password(password)
    one_time = None if password is not None else one_time_password()
    user.password_hash = passwords.hash_password(password or one_time)
    user.must_change_password = one_time is not None
    user.session_epoch += 1
    audit.record(
        "reset_password", "user", user.id, after={"one_time": one_time is not None}, actor=actor
    )
    return one_time


def change_own_password(user: User, current: str, new: str, repeated: str) -> None:
    """A person's own change, after a one-time password or whenever they wish; other open
    sessions of the account end (the caller starts the current one again)."""
    if not passwords.verify(user.password_hash, current[:256]):
        raise AccountError("current", _("The current password is wrong."))
    _check_password(new)
    if new != repeated:
        raise AccountError("repeated", _("The two new passwords differ."))
    if new == current:
        raise AccountError("password", _("Choose a password other than the current one."))
    user.password_hash = passwords.hash_password(new)
    user.must_change_password = False
    user.session_epoch += 1
    audit.record("change_password", "user", user.id, actor=user)
