"""Visits and their photos. Visits are append-only; their UUID is made on the phone."""

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .registry import CropRecord, Household
from .types import UTCDateTime, utcnow
from .users import User


class Visit(db.Model):
    __table_args__ = (Index("ix_visit_household_time", "household_id", "visited_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    cadre_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    # The phone's clock (may be wrong) and the server's receipt time (trusted).
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    device_time_suspect: Mapped[bool] = mapped_column(Boolean, default=False)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    accuracy_m: Mapped[float | None]
    # {"health": "same|better|worse", "income": ..., "housing": ..., "schooling": ...}
    situation: Mapped[dict] = mapped_column(JSON, default=dict)
    sudden_event: Mapped[str | None] = mapped_column(String(32))  # illness, disaster, ...
    notes: Mapped[str | None] = mapped_column(Text)
    needs: Mapped[str | None] = mapped_column(Text)
    follow_up: Mapped[str | None] = mapped_column(Text)
    # How many photos the phone said belong to this visit; the rest are still on their way.
    photos_expected: Mapped[int] = mapped_column(default=0)
    # Their UUIDs, so the server can tell which are still missing.
    photo_uuids: Mapped[list] = mapped_column(JSON, default=list)
    # The household's support measures the cadre saw carried out (kinds, MEASURE_KINDS).
    measures: Mapped[list] = mapped_column(JSON, default=list)

    household: Mapped[Household] = relationship()
    cadre: Mapped[User] = relationship()
    crops: Mapped[list[CropRecord]] = relationship()
    photos: Mapped[list["Photo"]] = relationship(back_populates="visit")


class Photo(db.Model):
    """A re-encoded image, stored content-addressed; belongs to a visit (or later a report)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # of the bytes as uploaded
    storage_key: Mapped[str] = mapped_column(String(128))  # of the re-encoded image
    content_type: Mapped[str] = mapped_column(String(32), default="image/jpeg")
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int]
    height: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    visit: Mapped[Visit | None] = relationship(back_populates="photos")
