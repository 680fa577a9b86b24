"""The audit log: every change a person makes, and every unmasking of an ID number."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    __table_args__ = (
        Index("ix_audit_event_entity", "entity", "entity_id"),
        Index("ix_audit_event_household", "household_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # None: a command
    action: Mapped[str] = mapped_column(String(32))  # create, update, delete, assign, unmask...
    entity: Mapped[str] = mapped_column(String(32))  # household, member, user, ...
    entity_id: Mapped[int | None]
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(64))
    # The household the changed thing belongs to (a member, a measure, a report...), so a
    # household's whole history and a supervisor's scope read one indexed column.
    household_id: Mapped[int | None]  # no foreign key: the log outlives what it names
