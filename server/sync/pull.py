"""Pull: the user's households changed after a cursor, in keyset pages of the change sequence.

The cursor holds a position (change_seq, household id) in the server's change sequence, never
a clock. Numbers commit in order (server/changes.py), so everything at or below the sequence
value read when a page is answered is visible to it, and nothing is skipped.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from .. import access, changes, pagination, settings
from ..errors import ApiError
from ..extensions import db
from ..models import (
    REPORT_CATEGORIES,
    REPORT_OPEN_STATUSES,
    REPORT_STATUSES,
    Assignment,
    Household,
    User,
    Village,
    Visit,
    utcnow,
)
from ..schedule import is_overdue, next_due
from ..selfreport import open_reports_for_households

RECENT_VISITS = 10
# The server's code lists the phone reads, so the two never disagree on a status or category.
CODES = {
    "report_categories": list(REPORT_CATEGORIES),
    "report_statuses": list(REPORT_STATUSES),
    "report_open_statuses": list(REPORT_OPEN_STATUSES),
}


def encode_cursor(seq: int, last_id: int | None = None) -> str:
    return pagination.pack("seq", seq) if last_id is None else pagination.pack("seq", seq, last_id)


def decode_cursor(cursor: str | None) -> tuple[int, int | None] | None:
    return pagination.unpack(cursor, "seq", pagination.sequence, pagination.row_id, optional=1)


@dataclass
class PulledHousehold:
    """A household as the detail API shows it, plus what the phone needs to plan visits."""

    household: Household
    next_due_at: datetime | None
    overdue: bool
    visits: list[Visit]
    reports: list = field(default_factory=list)

    def __getattr__(self, name):
        return getattr(self.household, name)


def _changed_after(user: User, after: tuple[int, int | None] | None):
    condition = access.household_condition(user)
    if user.role == "cadre":
        condition = or_(condition, Household.id.in_(access.formerly_assigned(user)))
    query = select(Household.id, Household.change_seq).where(condition)
    if after is not None:
        seq, last_id = after
        later = Household.change_seq > seq
        if last_id is not None:
            later = or_(later, and_(Household.change_seq == seq, Household.id > last_id))
        query = query.where(later)
    return query.order_by(Household.change_seq, Household.id)


def _recent_visits(user: User, household_ids: list[int]) -> dict[int, list[Visit]]:
    rank = func.row_number().over(
        partition_by=Visit.household_id, order_by=(Visit.visited_at.desc(), Visit.id.desc())
    )
    ranked = (
        access.visits(user)
        .where(Visit.household_id.in_(household_ids))
        .with_only_columns(Visit.id, rank.label("rank"))
        .subquery()
    )
    query = (
        select(Visit)
        .join(ranked, Visit.id == ranked.c.id)
        .where(ranked.c.rank <= RECENT_VISITS)
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
        .options(selectinload(Visit.crops), selectinload(Visit.photos), selectinload(Visit.cadre))
    )
    by_household: dict[int, list[Visit]] = {}
    for visit in db.session.scalars(query):
        by_household.setdefault(visit.household_id, []).append(visit)
    return by_household


def _load(user: User, ids: list[int]) -> list[PulledHousehold]:
    query = (
        access.households(user)
        .where(Household.id.in_(ids))
        .options(
            selectinload(Household.village).selectinload(Village.town),
            selectinload(Household.members),
            selectinload(Household.assignments).selectinload(Assignment.cadre),
            selectinload(Household.crops),
            selectinload(Household.measures),
        )
    )
    households = {h.id: h for h in db.session.scalars(query)}
    visits = _recent_visits(user, list(households))
    reports: dict[int, list[dict]] = {}
    for report in open_reports_for_households(user, list(households)):
        reports.setdefault(report["household"]["id"], []).append(report)
    now = utcnow()
    pulled = []
    for household_id in ids:
        household = households.get(household_id)
        if household is None:
            continue
        rhythm = settings.for_town(household.village.town)["rhythm_days"]
        last, klass = household.last_visit_at, household.klass
        pulled.append(
            PulledHousehold(
                household=household,
                next_due_at=next_due(last, klass, rhythm),
                overdue=is_overdue(last, klass, rhythm, now),
                visits=visits.get(household_id, []),
                reports=reports.get(household_id, []),
            )
        )
    return pulled


def pull_page(user: User, cursor: str | None, limit: int) -> dict:
    after = decode_cursor(cursor)
    high = changes.current_seq()
    if after is not None and after[0] > high:
        raise ApiError(
            400, "bad_cursor", "The cursor is ahead of this server; pull again without one."
        )
    rows = db.session.execute(_changed_after(user, after).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    households = _load(user, [row.id for row in rows])
    shown = {h.id for h in households}
    if more:
        next_cursor = encode_cursor(rows[-1].change_seq, rows[-1].id)
    else:
        seen = [high, after[0] if after else 0, *(row.change_seq for row in rows)]
        next_cursor = encode_cursor(max(seen))
    return {
        "households": households,
        "removed": [row.id for row in rows if row.id not in shown],
        "cursor": next_cursor,
        "more": more,
        "settings": {"rhythm_days": settings.for_town(user.town)["rhythm_days"]},
        "codes": CODES,
    }
