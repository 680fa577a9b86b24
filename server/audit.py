"""Writing audit events, in the same transaction as the change they describe."""

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import insert, select

from .extensions import db
from .models import (
    AuditEvent,
    DataConflict,
    HouseholdLink,
    Member,
    SelfReport,
    SupportMeasure,
    Visit,
    VisitFlag,
)

# Where each entity's household is found (the migration 0630 backfill mirrors this). Entities
# not listed (user, town) belong to no household.
_HOUSEHOLD_OF = {
    "member": lambda ids: select(Member.id, Member.household_id).where(Member.id.in_(ids)),
    "support_measure": lambda ids: select(SupportMeasure.id, SupportMeasure.household_id).where(
        SupportMeasure.id.in_(ids)
    ),
    "data_conflict": lambda ids: select(DataConflict.id, DataConflict.household_id).where(
        DataConflict.id.in_(ids)
    ),
    "household_link": lambda ids: select(HouseholdLink.id, HouseholdLink.household_id).where(
        HouseholdLink.id.in_(ids)
    ),
    "self_report": lambda ids: select(SelfReport.id, SelfReport.household_id).where(
        SelfReport.id.in_(ids)
    ),
    "visit_flag": lambda ids: (
        select(VisitFlag.id, Visit.household_id)
        .join(Visit, Visit.id == VisitFlag.visit_id)
        .where(VisitFlag.id.in_(ids))
    ),
}


def record(action: str, entity: str, entity_id, before=None, after=None, reason=None, actor=None):
    event = AuditEvent(
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
        reason=reason,
        household_id=_households(entity, [entity_id]).get(entity_id),
        **_who(actor),
    )
    db.session.add(event)
    return event


def record_many(events: list[dict], reason=None, actor=None) -> None:
    """Many events in one INSERT (a registry import); each dict holds action, entity,
    entity_id, before, after."""
    if not events:
        return
    who = _who(actor) | {"reason": reason}
    by_entity: dict[str, list] = {}
    for event in events:
        by_entity.setdefault(event["entity"], []).append(event["entity_id"])
    households = {entity: _households(entity, ids) for entity, ids in by_entity.items()}
    rows = [
        who | event | {"household_id": households[event["entity"]].get(event["entity_id"])}
        for event in events
    ]
    db.session.execute(insert(AuditEvent), rows)


def _households(entity: str, ids: list) -> dict:
    """{entity id: household id} for these ids of one entity."""
    ids = [i for i in ids if i is not None]
    if entity == "household":
        return {i: i for i in ids}
    if entity not in _HOUSEHOLD_OF or not ids:
        return {}
    with db.session.no_autoflush:
        found = dict(db.session.execute(_HOUSEHOLD_OF[entity](ids)).all())
    return found


def _who(actor) -> dict:
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    return {
        "actor_id": actor.id if actor is not None else None,
        "address": request.remote_addr if has_request_context() else None,
    }


def diff(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the keys whose value changed, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
