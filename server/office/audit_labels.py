"""The audit log in words: what each entity, action and field is called, and each stored
value as a person reads it. The one table of these words; the log page and any other page
that shows audit events read it."""

from flask_babel import lazy_gettext as _

from ..accounts import KIND_LABELS
from ..coverage.labels import measure_kind

ENTITIES = {
    "household": _("Household"),
    "member": _("Household member"),
    "support_measure": _("Support measure"),
    "self_report": _("Self-report"),
    "household_link": _("Household QR code"),
    "visit_flag": _("Visit check"),
    "data_conflict": _("Data conflict"),
    "user": _("Account"),
    "town": _("Town settings"),
    "village": _("Village"),
    "registry": _("Registry import"),
}

ACTIONS = {
    "create": _("created"),
    "update": _("changed"),
    "delete": _("removed"),
    "assign": _("cadre assigned"),
    "unassign": _("cadre unassigned"),
    "unmask": _("full ID number viewed"),
    "handle": _("needs-action handled"),
    "conflict": _("conflicting edit kept for review"),
    "resolve": _("conflict resolved"),
    "check": _("checked"),
    "issue": _("issued"),
    "reissue": _("issued again"),
    "revoke": _("revoked"),
    "seen": _("seen"),
    "handled": _("handled"),
    "link_visit": _("answered by a visit"),
    "reset_password": _("password reset"),
    "change_password": _("password changed by its holder"),
    "import": _("imported"),
    "seed": _("demo data made"),
}

# Field names per entity; a name not listed under its entity is looked up in COMMON.
FIELDS = {
    "household": {
        "code": _("Household code"),
        "head_name": _("Head of household"),
        "klass": _("Class"),
        "address": _("Address"),
        "active": _("In the programme"),
        "members": _("Members"),
        "lat": _("Latitude"),
        "lon": _("Longitude"),
        "entered_on": _("In the system since"),
        "cadre_ids": _("Cadres responsible"),
        "needs_action": _("Needs-action items"),
        "handled": _("Handled"),
        "self_reports": _("Self-reports"),
    },
    "member": {
        "name": _("Name"),
        "id_number": _("ID number"),
        "relation": _("Relation to the head"),
        "birth_year": _("Year of birth"),
        "sex": _("Sex"),
        "health": _("Health"),
        "labour_capacity": _("Labour capacity"),
    },
    "support_measure": {
        "kind": _("Measure"),
        "detail": _("Detail"),
        "amount_fen": _("Amount"),
        "started_on": _("Started"),
        "ended_on": _("Ended"),
    },
    "user": {
        "username": _("Username"),
        "display_name": _("Name"),
        "kind": _("Kind of account"),
        "enabled": _("Can sign in"),
        "one_time": _("One-time password"),
        "role": _("Role"),
    },
    "town": {
        "seed": _("Demo data seed"),
        "households": _("Households"),
        "rhythm_days": _("Visit rhythm (days between visits)"),
        "flag_distance_m": _("Flag a visit further from the household than (m)"),
        "device_clock_tolerance_s": _("Tolerated phone clock difference (seconds)"),
        "flag_accuracy_max_m": _("Flag a location less accurate than (m)"),
        "flag_speed_window_min": _("Compare a cadre's visits within (minutes)"),
        "flag_speed_min_distance_m": _("…when at least this far apart (m)"),
        "flag_speed_kmh": _("…and faster than (km/h)"),
        "report_response_days": _("Self-reports: working days to a verification visit"),
        "extra_holidays": _("Extra holidays"),
        "extra_workdays": _("Extra working days"),
    },
    # The counts of an import (ImportReport.counts()).
    "registry": {
        "rows": _("Rows"),
        "households_created": _("New households"),
        "households_updated": _("Households changed"),
        "households_unchanged": _("Households unchanged"),
        "households_rejected": _("Households refused"),
        "members_created": _("Members added"),
        "members_updated": _("Members changed"),
        "members_removed": _("Members removed"),
        "assignments_started": _("Assignments started"),
        "assignments_ended": _("Assignments ended"),
        "measures_started": _("Measures started"),
        "measures_ended": _("Measures ended"),
        "cadres_created": _("Cadre accounts created"),
        "villages_created": _("Villages created"),
        "towns_created": _("Towns created"),
    },
    "visit_flag": {
        "checked_at": _("Checked"),
        "kind": _("Kind"),
        "visit_id": _("Visit"),
    },
    "household_link": {
        "link_id": _("Previous link"),
        "for_card": _("For the door card"),
    },
    "self_report": {
        "category": _("Category"),
        "urgent": _("Urgent"),
        "photo": _("Photo"),
        "seen_at": _("Seen at"),
        "handled_note": _("Note"),
        "visit_uuid": _("Visit"),
    },
}
COMMON = {
    "phone": _("Phone"),
    "village_id": _("Village"),
    "village": _("Village"),
    "villages": _("Villages"),
    "town": _("Town"),
    "cadre_id": _("Cadre (帮扶责任人)"),
    "household_id": _("Household"),
    "comment": _("Comment"),
    "reason": _("Reason"),
    "name": _("Name"),
}

_SEXES = {"M": _("male"), "F": _("female")}
_ROLES = {"admin": _("Administrator"), "supervisor": _("Supervisor"), "cadre": _("Cadre")}


def entity_label(entity: str) -> str:
    return str(ENTITIES.get(entity, entity))


def action_label(action: str) -> str:
    return str(ACTIONS.get(action, action))


def field_label(entity: str, name: str) -> str:
    label = FIELDS.get(entity, {}).get(name) or COMMON.get(name)
    return str(label) if label is not None else name


def value_text(entity: str, name: str, value, names: dict) -> str:
    """A stored value in words; `names` maps ("village"|"user", id) to a name."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if name == "village_id":
        return names.get(("village", value), f"#{value}")
    if name in ("cadre_id",):
        return names.get(("user", value), f"#{value}")
    if name == "klass":
        return str(_("Class %(klass)s", klass=value))
    if name == "sex":
        return str(_SEXES.get(value, value))
    if name == "kind" and entity == "support_measure":
        return measure_kind(value)
    if name == "kind" and entity == "user":
        return str(KIND_LABELS.get(value, value))
    if name == "role" and entity == "user":
        return str(_ROLES.get(value, value))
    if name == "cadre_ids" and isinstance(value, list):
        return "、".join(names.get(("user", v), f"#{v}") for v in value) or "—"
    if name == "members" and isinstance(value, list):  # an import's members, as dicts
        return "、".join(_member_text(m) for m in value) or "—"
    if name == "amount_fen" and isinstance(value, int):
        yuan = f"{value / 100:.2f}"
        return str(_("%(yuan)s yuan", yuan=yuan))
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def _member_text(member) -> str:
    """A member as written by an import: the name and the relation, e.g. 孙三（户主）."""
    if not isinstance(member, dict):
        return str(member)
    name, relation = member.get("name") or "?", member.get("relation")
    return f"{name}（{relation}）" if relation else str(name)


def changes(event, names: dict) -> list[tuple[str, str, str]]:
    """(field, before, after) in words, one per field the event names."""
    before, after = event.before or {}, event.after or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    keys = list(dict.fromkeys([*before, *after]))
    if not before:  # a creation: what it was made with, leaving out what was left empty
        keys = [k for k in keys if after.get(k) not in (None, "", [])]
    return [
        (
            field_label(event.entity, key),
            value_text(event.entity, key, before.get(key), names) if key in before else "",
            value_text(event.entity, key, after.get(key), names) if key in after else "",
        )
        for key in keys
    ]


def referenced_ids(events) -> dict[str, set[int]]:
    """The villages and users the events' values name, to look their names up at once."""
    wanted: dict[str, set[int]] = {"village": set(), "user": set()}
    for event in events:
        for values in (event.before, event.after):
            if not isinstance(values, dict):
                continue
            if isinstance(values.get("village_id"), int):
                wanted["village"].add(values["village_id"])
            if isinstance(values.get("cadre_id"), int):
                wanted["user"].add(values["cadre_id"])
            cadre_ids = values.get("cadre_ids")
            if isinstance(cadre_ids, list):
                wanted["user"].update(i for i in cadre_ids if isinstance(i, int))
    return wanted
