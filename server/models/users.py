"""People who sign in, and the scope a supervisor holds."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .registry import Town, Village
from .types import UTCDateTime, utcnow

ROLES = ("admin", "supervisor", "cadre")

# A supervisor of some villages only (a village committee); empty means the whole town.
supervisor_village = Table(
    "supervisor_village",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("village_id", ForeignKey("village.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    __table_args__ = (CheckConstraint("role IN ('admin','supervisor','cadre')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    role: Mapped[str] = mapped_column(String(16))
    # None until a password is set: imported cadres cannot sign in before an admin sets one.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("town.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Changes when the password is reset or the account disabled, ending every open session.
    session_epoch: Mapped[int] = mapped_column(default=0)
    # Set with a one-time password (a new account, a reset): nothing but changing it works.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)

    town: Mapped[Town | None] = relationship()
    villages: Mapped[list[Village]] = relationship(secondary=supervisor_village)

    @property
    def is_active(self) -> bool:  # flask-login refuses disabled accounts
        return self.enabled

    # The UserSession this request was signed in with; set by auth, never stored here.
    session_id = None  # the open UserSession id (str) of this request; never stored here

    def get_id(self) -> str:
        """What the session and remember-me cookies carry: ending the UserSession (sign-out)
        or changing the epoch (password reset, account disabled) makes both worthless."""
        return f"{self.id}:{self.session_epoch}:{self.session_id}"


class UserSession(db.Model):
    """One sign-in, from the moment the password was right until sign-out."""

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # random, in the cookies
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class LoginFailure(db.Model):
    """One failed sign-in; recent rows per account and per address throttle guessing."""

    __table_args__ = (Index("ix_login_failure_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128))  # "user:NAME" or "addr:IP"
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
