"""'Needs action': households whose visits reported a sudden event or a worsening situation,
whose data holds an open conflict, or whose family sent a self-report; listed oldest first
until someone marks them handled. Items are raised and closed with their sources
(server/tasks.py); this module only reads them."""

from sqlalchemy import and_, func, or_, select

from ..extensions import db
from ..models import Household, NeedsAction


def open_items_by_household(household_condition, village_ids, after=None, limit=50):
    """Households with open items, the one waiting longest first; keyset on (oldest, id)."""
    oldest = func.min(NeedsAction.raised_at).label("oldest")
    query = (
        select(NeedsAction.household_id, oldest, func.count().label("items"))
        .join(Household, Household.id == NeedsAction.household_id)
        .where(NeedsAction.handled_at.is_(None), household_condition)
        .group_by(NeedsAction.household_id)
    )
    if village_ids is not None:
        query = query.where(Household.village_id.in_(village_ids))
    if after is not None:
        since, last_id = after
        query = query.having(
            or_(oldest > since, and_(oldest == since, NeedsAction.household_id > last_id))
        )
    query = query.order_by(oldest, NeedsAction.household_id).limit(limit + 1)
    return db.session.execute(query).all()
