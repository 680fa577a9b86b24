"""Data conflicts: a field a cadre changed offline that the server changed too. Both values
were kept (server/sync/edits.py) and the server's stayed in force; a supervisor sees them
side by side (server/office/conflicts.py) and decides, once. Choosing the phone's value
writes it through the ORM, so the household gets a new version and the phones pull it;
either way the conflict is closed with who, when and why, its needs-action item closes with
it (server/tasks.py), and both are audited."""

from flask import abort
from flask_babel import gettext as _

from .. import audit, tasks
from ..extensions import db
from ..models import DataConflict, Member, User, utcnow

CHOICES = ("server", "phone")
NOTE_MAX = 200  # DataConflict.resolution holds the choice and the note


class Field:
    """Where a conflict's field lives: the household's phone or a member's field."""

    def __init__(self, conflict: DataConflict):
        self.conflict = conflict
        parts = conflict.field.split(".")
        self.member_id = int(parts[1]) if parts[0] == "members" and len(parts) == 3 else None
        self.name = parts[-1]

    def target(self):
        """The row holding the field now, or None when it is gone (a member removed)."""
        if self.member_id is None:
            return self.conflict.household
        member = db.session.get(Member, self.member_id)
        return member if member and member.household_id == self.conflict.household_id else None

    def label(self) -> str:
        if self.member_id is None:
            return _("Phone") if self.name == "phone" else self.name
        target = self.target()
        who = target.name if target is not None else _("removed member")
        names = {"health": _("Health"), "labour_capacity": _("Labour capacity")}
        return f"{who}: {names.get(self.name, self.name)}"

    def current(self):
        target = self.target()
        return getattr(target, self.name) if target is not None else None


def resolve(conflict: DataConflict, choice: str, note: str, actor: User) -> None:
    """Close the conflict; with "phone", the phone's value replaces the server's."""
    field = Field(conflict)
    if choice == "phone":
        target = field.target()
        if target is None:
            abort(409, _("The member this value belongs to was removed; keep the server value."))
        before, after = getattr(target, field.name), conflict.phone_value["value"]
        setattr(target, field.name, after)
        entity = "member" if isinstance(target, Member) else "household"
        reason = f"data conflict {conflict.id} resolved"
        audit.record("update", entity, target.id, {field.name: before}, {field.name: after}, reason)
    now = utcnow()
    conflict.resolved_at, conflict.resolved_by_id = now, actor.id
    conflict.resolution = f"{choice}: {note}" if note else choice
    tasks.conflict_resolved(conflict, actor, note or _("Data conflict resolved"))
    audit.record(
        "resolve",
        "data_conflict",
        conflict.id,
        before={"server": conflict.server_value, "phone": conflict.phone_value},
        after={"kept": choice, "field": conflict.field},
        reason=note or None,
    )
