"""Writing audit events, in the same transaction as the change they describe."""

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import insert

from .extensions import db
from .models import AuditEvent


def record(action: str, entity: str, entity_id, before=None, after=None, reason=None, actor=None):
    event = AuditEvent(
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
        reason=reason,
        **_who(actor),
    )
    db.session.add(event)
    return event


def record_many(events: list[dict], reason=None, actor=None) -> None:
    """Many events in one INSERT (a registry import); each dict holds action, entity,
    entity_id, before, after."""
    if events:
        who = _who(actor) | {"reason": reason}
        db.session.execute(insert(AuditEvent), [who | event for event in events])


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
