"""Supervisor coverage: class history, per-month visit aggregates, visit flags, needs action."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .registry import Household
from .types import UTCDateTime, utcnow
from .users import User
from .visits import Visit

# Indexes on shared tables that the coverage pages walk. Declared here, next to the queries
# that need them, so the shared model files stay as they are.
Index("ix_visit_visited_at", Visit.visited_at)
Index("ix_visit_cadre_time", Visit.cadre_id, Visit.visited_at, Visit.household_id)
Index("ix_household_last_visit_at", Household.last_visit_at)
# The overview counts households by village and class, and overdue by their last visit,
# from this index alone.
Index(
    "ix_household_coverage",
    Household.village_id,
    Household.klass,
    Household.active,
    Household.last_visit_at,
)
# The few deactivated households, found without reading the others.
Index(
    "ix_household_inactive",
    Household.id,
    sqlite_where=Household.active.is_(False),
    postgresql_where=Household.active.is_(False),
)


class KlassChange(db.Model):
    """A household's class moving from one value to another; coverage uses the class in force
    at the end of a period."""

    __table_args__ = (Index("ix_klass_change_household_at", "household_id", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    klass_from: Mapped[str] = mapped_column(String(1))
    klass_to: Mapped[str] = mapped_column(String(1))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str | None] = mapped_column(String(200))

    changed_by: Mapped[User | None] = relationship()


class VisitMonth(db.Model):
    """One row per household and local month in which it was visited, kept with each visit.

    `village_id` and `klass` are the household's at the end of that month (moved when the
    household changes during the current month), so month-by-class counts need no join.
    """

    __table_args__ = (Index("ix_visit_month_month_village_klass", "month", "village_id", "klass"),)

    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)  # 202605 for May 2026
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    klass: Mapped[str] = mapped_column(String(1))
    visits: Mapped[int] = mapped_column(default=0)
    last_visit_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VisitMonthCount(db.Model):
    """How many households of a village and class were visited in a month: the visit_month
    rows counted, kept with them, so the monthly trend reads a few rows per village."""

    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), primary_key=True)
    klass: Mapped[str] = mapped_column(String(1), primary_key=True)
    households: Mapped[int] = mapped_column(default=0)


class MonthSnapshot(db.Model):
    """A closed month's households and overdue households of one village, by the class in
    force at the month's end, so a past month's overview need not probe every household's
    visits again (server/coverage/snapshots.py keeps it true).

    `members` and `overdue` map a class to household ids. The row holds for the month end
    `judged_at` and the `rhythm` it was judged with; `stamp` is the change sequence
    (household.change_seq) read before the figures were: a household changed since has a
    greater change_seq and is judged again.
    """

    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)  # 202605 for May 2026
    judged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rhythm: Mapped[dict] = mapped_column(JSON)
    stamp: Mapped[int] = mapped_column(BigInteger)
    members: Mapped[dict] = mapped_column(JSON)
    overdue: Mapped[dict] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class VisitFlag(db.Model):
    """Something about a visit that deserves a supervisor's look, with its reason."""

    __table_args__ = (
        UniqueConstraint("visit_id", "kind"),
        Index("ix_visit_flag_open", "checked_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"))
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    comment: Mapped[str | None] = mapped_column(Text)

    visit: Mapped[Visit] = relationship()
    checked_by: Mapped[User | None] = relationship()


class NeedsAction(db.Model):
    """A reason a household needs a supervisor's action, open until someone marks it handled.

    `source` says where it came from ("visit", "conflict", later "report"); `source_id` is that
    row's id, so the same visit or conflict never raises two items.
    """

    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        Index("ix_needs_action_open", "handled_at", "raised_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int]
    reason: Mapped[str] = mapped_column(String(32))  # illness, disaster, worse, conflict, ...
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    note: Mapped[str | None] = mapped_column(Text)

    household: Mapped[Household] = relationship()
    handled_by: Mapped[User | None] = relationship()
