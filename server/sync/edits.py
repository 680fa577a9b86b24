"""Household edits made offline, merged per field against the version the phone started from.

household.field_versions says at which household version each editable field last changed
(kept by the session hooks in server/changes.py, whoever made the change). A field the phone
changes is applied unless it also changed on the server after the phone's base_version to a
different value; then both values are kept as a DataConflict, the server's stays in force, and
a supervisor resolves it. The phone's own earlier offline edits of the same field are not
conflicts: they are recognised from this user's stored sync records.
"""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit, tasks
from ..changes import field_key
from ..errors import Coded
from ..extensions import db
from ..models import DataConflict, Household, User, utcnow
from ..models.sync import SyncRecord
from .results import rejected, uuid_taken

KIND = "household_edit"


def _wanted(household: Household, changes: dict) -> list[tuple[object, str, object]]:
    """(object, attribute, value the phone wants) for each field the edit names."""
    wanted = []
    if "phone" in changes:
        wanted.append((household, "phone", changes["phone"]))
    members = {str(m.id): m for m in household.members}
    for member_id, values in changes["members"].items():
        wanted.extend((members[member_id], name, value) for name, value in values.items())
    return wanted


def _problem(uuid: str, data: dict, household: Household) -> dict | None:
    if data["base_version"] > household.version:
        fields = {"base_version": [Coded("Newer than the household's version.", "too_large")]}
        return rejected(uuid, 422, "validation_failed", "Some fields are not valid.", fields)
    known = {str(m.id) for m in household.members}
    unknown = [m for m in data["changes"]["members"] if m not in known]
    if unknown:
        fields = {
            "changes": {
                "members": {
                    m: [Coded("No such member in this household.", "not_found")] for m in unknown
                }
            }
        }
        return rejected(uuid, 422, "validation_failed", "Some fields are not valid.", fields)
    return None


class EditMerge:
    """The household edits of one push; each is kept as a SyncRecord with its answer."""

    def __init__(self, user: User, uuids: list[str]):
        self.user = user
        query = select(SyncRecord).where(SyncRecord.uuid.in_(uuids))
        self.stored = {r.uuid: r for r in db.session.scalars(query)}

    def merge(self, uuid: str, data: dict, household: Household) -> dict:
        if uuid in self.stored:
            return self._answer_stored(uuid, self.stored[uuid])
        problem = _problem(uuid, data, household)
        if problem:
            return problem
        try:
            with db.session.begin_nested():
                # The UUID is claimed first, so a copy arriving at the same moment stops here.
                record = SyncRecord(
                    uuid=uuid, kind=KIND, user_id=self.user.id, household_id=household.id, result={}
                )
                db.session.add(record)
                db.session.flush()
                record.result = self._apply(uuid, data, household)
        except IntegrityError:
            found = db.session.scalar(select(SyncRecord).where(SyncRecord.uuid == uuid))
            return self._answer_stored(uuid, found) if found else uuid_taken(uuid)
        self.stored[uuid] = record
        return record.result

    def _answer_stored(self, uuid: str, record: SyncRecord) -> dict:
        if record.user_id != self.user.id or record.kind != KIND:
            return uuid_taken(uuid)
        return {**record.result, "status": "duplicate"}

    def _apply(self, uuid: str, data: dict, household: Household) -> dict:
        base = data["base_version"]
        versions = household.field_versions or {}
        applied, conflicts = [], []
        for obj, name, mine in _wanted(household, data["changes"]):
            key, theirs = field_key(obj, name), getattr(obj, name)
            if mine == theirs:
                continue
            changed_at = versions.get(key, 0)
            if changed_at > base and not self._own_change(household, key, changed_at):
                conflicts.append({"field": key, "mine": mine, "theirs": theirs})
            else:
                applied.append((obj, name, theirs, mine))
                setattr(obj, name, mine)
        self._keep(uuid, household, applied, conflicts)
        db.session.flush()  # the session hook gives the household its new version
        return {
            "uuid": uuid,
            "status": "merged",
            "id": household.id,
            "version": household.version,
            "applied": [field_key(obj, name) for obj, name, *_ in applied],
            "conflicts": conflicts,
        }

    def _own_change(self, household: Household, key: str, version: int) -> bool:
        """Did this user's own offline edit make the server's latest change to the field?"""
        query = select(SyncRecord.result).where(
            SyncRecord.household_id == household.id,
            SyncRecord.user_id == self.user.id,
            SyncRecord.kind == KIND,
        )
        return any(
            r.get("version") == version and key in r.get("applied", ())
            for r in db.session.scalars(query)
        )

    def _keep(self, uuid: str, household: Household, applied: list, conflicts: list) -> None:
        """Audit events with the cadre as actor; conflicts kept for a supervisor."""
        reason = f"offline edit {uuid}"
        changed: dict[object, tuple[dict, dict]] = {}
        for obj, name, before, after in applied:
            changed.setdefault(obj, ({}, {}))
            changed[obj][0][name], changed[obj][1][name] = before, after
        for obj, (before, after) in changed.items():
            entity = "household" if obj is household else "member"
            audit.record("update", entity, obj.id, before, after, reason, actor=self.user)
        stored = [
            DataConflict(
                household_id=household.id,
                record_uuid=uuid,
                field=conflict["field"],
                server_value={"value": conflict["theirs"]},
                phone_value={"value": conflict["mine"]},
                submitted_by_id=self.user.id,
                created_at=utcnow(),
            )
            for conflict in conflicts
        ]
        db.session.add_all(stored)
        if stored:
            db.session.flush()
        for conflict in stored:
            tasks.conflict_stored(conflict)
        if conflicts:
            audit.record(
                "conflict",
                "household",
                household.id,
                {c["field"]: c["theirs"] for c in conflicts},
                {c["field"]: c["mine"] for c in conflicts},
                reason,
                actor=self.user,
            )
