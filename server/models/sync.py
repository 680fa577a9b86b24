"""What the phones report about themselves, and data conflicts left for a supervisor."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
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
    storage_free_bytes: Mapped[int | None]
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
