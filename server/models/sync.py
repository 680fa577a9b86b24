"""What the phones report about themselves, and data conflicts left for a supervisor."""

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .registry import Household
from .types import UTCDateTime, utcnow
from .users import User


class DeviceStatus(db.Model):
    """The last thing a cadre's phone said at a push: what still waits on it."""

    __table_args__ = (UniqueConstraint("user_id", "device_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(64))
    app_version: Mapped[str | None] = mapped_column(String(64))
    pending_records: Mapped[int] = mapped_column(default=0)
    pending_photos: Mapped[int] = mapped_column(default=0)
    storage_free_bytes: Mapped[int | None] = mapped_column(BigInteger)  # phones have > 2 GB
    last_sync_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()


class DataConflict(db.Model):
    """A field changed both on a phone (offline) and on the server since the phone's version.

    Both values are kept; the server value stays in force until a supervisor resolves it.
    """

    __table_args__ = (Index("ix_data_conflict_open", "resolved_at", "household_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    record_uuid: Mapped[str] = mapped_column(String(36), index=True)  # the phone's edit
    field: Mapped[str] = mapped_column(String(64))  # "phone", "members.12.health", ...
    server_value: Mapped[dict | None] = mapped_column(JSON)  # {"value": ...}
    phone_value: Mapped[dict | None] = mapped_column(JSON)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolution: Mapped[str | None] = mapped_column(String(200))

    household: Mapped[Household] = relationship()


class ChangeCounter(db.Model):
    """The one-row change sequence behind household.change_seq and the pull cursor.

    A row updated inside each writing transaction (not a database sequence): its row lock makes
    the numbers commit in order, so a phone that saw N never misses a change numbered below N.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class SyncRecord(db.Model):
    """A pushed record that makes no single row of its own (a household edit), kept by its
    UUID with the answer it got, so the same record sent again answers the same."""

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    result: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
