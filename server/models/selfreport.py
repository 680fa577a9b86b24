"""Household self-report: the link on the door card, the reports families send, and the
counters that rate-limit the public page."""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .registry import Household
from .types import UTCDateTime, utcnow
from .users import User
from .visits import Photo, Visit

# What happened, as the family picks it on the form.
REPORT_CATEGORIES = (
    "illness",
    "disaster",
    "work",
    "housing",
    "schooling",
    "harvest",
    "need_help",
    "other",
)
# Where a report stands. The first two are open: a task for the cadre until it is handled.
REPORT_STATUSES = ("received", "seen", "handled")
REPORT_OPEN_STATUSES = ("received", "seen")
# Marked urgent, these go to the top of every list and are counted on their own.
TOP_URGENT_CATEGORIES = ("illness", "disaster", "need_help")


def report_priority(category: str, urgent: bool) -> int:
    """0: urgent illness, disaster or need of help; 1: other urgent; 2: normal."""
    if not urgent:
        return 2
    return 0 if category in TOP_URGENT_CATEGORIES else 1


class HouseholdLink(db.Model):
    """One issued door-card link. Only the SHA-256 of its token is kept.

    A household has at most one live link (revoked_at IS NULL); re-issuing revokes the old one,
    so the old card stops working. Revoked rows stay as history.
    """

    __table_args__ = (
        Index(
            "uq_household_link_live",
            "household_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # When a card carrying this token was rendered for printing. A token made automatically
    # (new household, import) has none: nobody ever saw it, so printing it means re-issuing.
    card_rendered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    household: Mapped[Household] = relationship()


class SelfReport(db.Model):
    """A message from a household: a task for its cadre, never a change to its record."""

    __table_args__ = (
        CheckConstraint(
            "category IN (" + ",".join(f"'{c}'" for c in REPORT_CATEGORIES) + ")",
            name="category",
        ),
        Index("ix_self_report_open", "handled_at", "priority", "received_at"),
        Index("ix_self_report_household_received", "household_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the family is told after sending, e.g. 4821-0937: short, read out over the phone.
    reference: Mapped[str] = mapped_column(String(9), unique=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    link_id: Mapped[int | None] = mapped_column(ForeignKey("household_link.id"))
    # The form's one-time nonce: sending the same form twice (a double tap, a reload) finds
    # this report instead of making a second one.
    form_nonce: Mapped[str] = mapped_column(String(32), unique=True)
    category: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[int] = mapped_column(SmallInteger)  # see report_priority
    callback_phone: Mapped[str | None] = mapped_column(String(20))
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("photo.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # By when a verification visit is due (the town's working days, server/tasks.py): an open
    # report past it is late, and escalates to the town office.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    seen_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    handled_note: Mapped[str | None] = mapped_column(Text)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    # The first of seen_at and handled_at: what response-time figures are computed from.
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    household: Mapped[Household] = relationship()
    photo: Mapped[Photo | None] = relationship()
    visit: Mapped[Visit | None] = relationship()
    seen_by: Mapped[User | None] = relationship(foreign_keys=[seen_by_id])
    handled_by: Mapped[User | None] = relationship(foreign_keys=[handled_by_id])

    @property
    def response_seconds(self) -> int | None:
        """From receipt to the first response (seen, handled or answered by a visit)."""
        if self.responded_at is None:
            return None
        return int((self.responded_at - self.received_at).total_seconds())

    def late(self, now: datetime) -> bool:
        return self.handled_at is None and self.due_at is not None and self.due_at <= now

    @property
    def status(self) -> str:
        if self.handled_at is not None:
            return "handled"
        return "seen" if self.seen_at is not None else "received"


class RateCounter(db.Model):
    """Requests counted per key in fixed windows, shared by every worker through the database.

    Keys hold hashes, never a raw address or token.
    """

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_start: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # epoch s
    count: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[int] = mapped_column(index=True)  # epoch seconds
