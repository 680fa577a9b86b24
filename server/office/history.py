"""A household's change history in words: who did what, from which value to which, and why.

Audit events store field names and ids (village_id, cadre_id); here they become the words
of the work (村, 帮扶责任人) and names, so a clerk reads "类别：B → C" and not "klass".
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from ..coverage.labels import colon
from ..extensions import db
from ..models import AuditEvent, Household, Member, User, Village


def field_label(name: str) -> str:
    return {
        "code": _("Household code"),
        "village_id": _("Village"),
        "head_name": _("Head of household"),
        "klass": _("Class"),
        "phone": _("Phone"),
        "address": _("Address"),
        "lat": _("Latitude"),
        "lon": _("Longitude"),
        "active": _("In the registry"),
        "members": _("Members"),
        "name": _("Name"),
        "id_number": _("ID number"),
        "relation": _("Relation to the head"),
        "birth_year": _("Year of birth"),
        "sex": _("Sex"),
        "health": _("Health"),
        "labour_capacity": _("Labour capacity"),
        "cadre_id": _("Cadre responsible"),
        "reason": _("Reason"),
    }.get(name, name)


def _action_words(event: AuditEvent) -> str:
    member = event.entity == "member"
    return {
        ("create", False): _("Household added"),
        ("update", False): _("Household changed"),
        ("assign", False): _("Cadre responsible assigned"),
        ("unassign", False): _("Cadre responsible ended"),
        ("create", True): _("Member added"),
        ("update", True): _("Member changed"),
        ("delete", True): _("Member removed"),
        ("unmask", True): _("Full ID number read"),
    }.get((event.action, member), f"{event.action} {event.entity}")


def _what(event: AuditEvent, names: "_Names") -> str:
    words = _action_words(event)
    name = (event.before or {}).get("name") if event.action == "delete" else None
    name = name or (names.members.get(event.entity_id) if event.entity == "member" else None)
    return f"{words} · {name}" if name else words


@dataclass
class Change:
    at: datetime
    who: str
    what: str
    details: list[str]
    reason: str | None


class _Names:
    """Names for the ids in a page of events, read once."""

    def __init__(self, events: list[AuditEvent]):
        ids = {"village_id": set(), "cadre_id": set()}
        for event in events:
            for values in (event.before or {}, event.after or {}):
                for key, found in ids.items():
                    if isinstance(values.get(key), int):
                        found.add(values[key])
        actor_ids = {e.actor_id for e in events if e.actor_id} | ids["cadre_id"]
        self.users = {
            u.id: u.display_name
            for u in db.session.scalars(select(User).where(User.id.in_(actor_ids)))
        }
        member_ids = {e.entity_id for e in events if e.entity == "member"}
        members = select(Member.id, Member.name).where(Member.id.in_(member_ids))
        self.members = dict(db.session.execute(members).all())
        self.villages = {
            v.id: v.name
            for v in db.session.scalars(select(Village).where(Village.id.in_(ids["village_id"])))
        }

    def value(self, key: str, value) -> str:
        if value is None or value == "":
            return "—"
        if key == "village_id":
            return self.villages.get(value, str(value))
        if key == "cadre_id":
            return self.users.get(value, str(value))
        if key == "sex":
            return {"M": _("male"), "F": _("female")}.get(value, value)
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        return str(value)


def _details(event: AuditEvent, names: _Names) -> list[str]:
    before, after = event.before or {}, event.after or {}
    if event.action == "update":
        keys = list(after)
        return [
            f"{colon(field_label(k))}{names.value(k, before.get(k))} → {names.value(k, after[k])}"
            for k in keys
        ]
    shown = after or before
    keys = [k for k in shown if k not in ("household_id", "position")]
    return [f"{colon(field_label(k))}{names.value(k, shown[k])}" for k in keys]


def household_history(household: Household, limit: int = 100) -> list[Change]:
    """The household's events and its members' (removed ones too), newest first. ID
    numbers in them are masked: the audit trail never holds a full one."""
    current = select(Member.id).where(Member.household_id == household.id)
    removed = select(AuditEvent.entity_id).where(
        AuditEvent.entity == "member",
        AuditEvent.action == "delete",
        AuditEvent.before["household_id"].as_integer() == household.id,
    )
    member_ids = current.union(removed).subquery()
    events = db.session.scalars(
        select(AuditEvent)
        .where(
            or_(
                and_(AuditEvent.entity == "household", AuditEvent.entity_id == household.id),
                and_(AuditEvent.entity == "member", AuditEvent.entity_id.in_(select(member_ids))),
            )
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()
    names = _Names(events)
    return [
        Change(
            at=event.at,
            who=names.users.get(event.actor_id, _("the system")),
            what=_what(event, names),
            details=_details(event, names),
            reason=event.reason,
        )
        for event in events
    ]
