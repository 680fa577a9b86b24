"""The registry: villages, households, members, cadre assignments.

The functions without a route are the rules (validation, scope, audit) that the JSON API
below and the office pages (server/office/households.py) share; the caller commits. A
household's version is not bumped here: the session hooks in server/changes.py give every
changed household its new version, whoever writes.
"""

from flask import Blueprint, request
from flask_login import current_user, login_required
from sqlalchemy import or_, select, union_all
from sqlalchemy.orm import selectinload

from . import access, audit, coverage, idcard, pagination
from .apidoc import documented
from .coverage.periods import local_today
from .errors import ApiError, json_body
from .extensions import db
from .models import Assignment, Household, Member, User, utcnow
from .schemas.households import (
    AssignSchema,
    HouseholdCreateSchema,
    HouseholdDetailSchema,
    HouseholdEditSchema,
    HouseholdPageSchema,
    HouseholdQuerySchema,
    IdNumberSchema,
    MemberInSchema,
    MemberSchema,
    UnmaskSchema,
    VillageSchema,
)
from .selfreport import ensure_token

bp = Blueprint("households", __name__, url_prefix="/api")

HOUSEHOLD_FIELDS = (
    "code",
    "village_id",
    "head_name",
    "klass",
    "phone",
    "address",
    "lat",
    "lon",
    "active",
)
MEMBER_FIELDS = ("name", "id_number", "relation", "birth_year", "sex", "health", "labour_capacity")


def snapshot(obj, names) -> dict:
    return {name: getattr(obj, name) for name in names}


def member_snapshot(member: Member) -> dict:
    """Audit rows never hold a full ID number either."""
    data = snapshot(member, MEMBER_FIELDS)
    data["id_number"] = idcard.mask(data["id_number"])
    return data


def detail(household: Household) -> dict:
    return HouseholdDetailSchema().dump(household)


@bp.get("/villages")
@login_required
@documented("registry", {200: VillageSchema(many=True)})
def list_villages():
    """Villages the user can see."""
    rows = db.session.scalars(access.villages(current_user))
    return VillageSchema(many=True).dump(rows)


@bp.get("/households")
@login_required
@documented("registry", {200: HouseholdPageSchema}, query=HouseholdQuerySchema)
def list_households():
    """Households in the user's scope, filtered, by keyset pages ordered by id."""
    args = HouseholdQuerySchema().load(request.args)
    limit = pagination.page_size(args.get("limit"))
    conditions = []
    if "village_id" in args:
        conditions.append(Household.village_id == args["village_id"])
    if "klass" in args:
        conditions.append(Household.klass == args["klass"])
    if "q" in args:
        text = args["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(
            or_(
                Household.head_name.like(f"%{text}%", escape="\\"),
                Household.code.like(f"{text}%", escape="\\"),
            )
        )
    after = pagination.decode(args.get("cursor"))
    if after is not None:
        conditions.append(Household.id > after)
    by_village = "village_id" not in args and "q" not in args
    query = _first_by_id(conditions, limit + 1, merge_villages=by_village)
    rows = db.session.scalars(query.options(selectinload(Household.village))).all()
    return HouseholdPageSchema().dump(pagination.page(rows, limit))


MERGED_VILLAGES_MAX = 200


def _first_by_id(conditions: list, count: int, merge_villages: bool):
    """The first `count` households of the user's scope matching `conditions`, by id.

    A supervisor's villages can lie anywhere in the id order (a town imported after others):
    walking the primary key, as PostgreSQL plans it, then reads every household before
    theirs. Taking each village's first `count` from its (village_id, id) index and merging
    them reads at most `count` households per village instead. Not for text searches: the
    trigram index answers those for the whole scope at once, and once per village costs more.
    """
    query = access.households(current_user).order_by(Household.id)
    villages = access.scope_village_ids(current_user) if merge_villages else None
    if villages is None or not 1 < len(villages) <= MERGED_VILLAGES_MAX:
        return query.where(*conditions).limit(count)
    firsts = [
        select(Household.id)
        .where(Household.village_id == village_id, *conditions)
        .order_by(Household.id)
        .limit(count)
        .subquery()
        for village_id in villages
    ]
    merged = union_all(*(select(first.c.id) for first in firsts)).subquery()
    return query.where(Household.id.in_(select(merged.c.id).order_by(merged.c.id).limit(count)))


def _load_household(household_id: int) -> Household:
    return access.get_household(current_user, household_id)


@bp.get("/households/<int:household_id>")
@login_required
@documented("registry", {200: HouseholdDetailSchema})
def get_household(household_id: int):
    """A household with its members (ID numbers masked), cadres and crops."""
    return detail(_load_household(household_id))


def _check_village(village_id: int) -> None:
    allowed = db.session.scalar(
        access.villages(current_user).where(access.Village.id == village_id).limit(1)
    )
    if allowed is None:
        raise ApiError(
            422,
            "validation_failed",
            "Some fields are not valid.",
            {"village_id": ["No such village in your scope."]},
        )


def _add_member(household: Household, data: dict, position: int) -> Member:
    data.setdefault("birth_year", idcard.birth_year(data["id_number"]))
    data.setdefault("sex", idcard.sex(data["id_number"]))
    member = Member(household=household, position=position, **data)
    db.session.add(member)
    return member


@bp.post("/households")
@login_required
@documented(
    "registry",
    {201: HouseholdDetailSchema},
    body=HouseholdCreateSchema,
    errors={403: None, 409: "A household with this code exists"},
)
def create_household():
    """Create a household with its members (supervisors and admins)."""
    access.require(access.can_edit_registry(current_user))
    household = new_household(HouseholdCreateSchema().load(json_body()))
    db.session.commit()
    return detail(household), 201


def new_household(data: dict) -> Household:
    """A household with its members from validated data (HouseholdCreateSchema)."""
    _check_village(data["village_id"])
    if db.session.scalar(select(Household.id).where(Household.code == data["code"])):
        raise ApiError(
            409, "conflict", "A household with this code exists.", {"code": ["Already used."]}
        )
    members = data.pop("members")
    household = Household(**data, entered_on=local_today())
    db.session.add(household)
    for position, member in enumerate(members):
        _add_member(household, member, position)
    db.session.flush()
    ensure_token(household)  # every household has a self-report link from the start
    audit.record(
        "create",
        "household",
        household.id,
        after=snapshot(household, HOUSEHOLD_FIELDS) | {"members": len(members)},
    )
    return household


@bp.patch("/households/<int:household_id>")
@login_required
@documented("registry", {200: HouseholdDetailSchema}, body=HouseholdEditSchema, errors=[403])
def edit_household(household_id: int):
    """Change a household's fields (supervisors and admins)."""
    household = _load_household(household_id)
    access.require(access.can_edit_registry(current_user))
    change_household(household, HouseholdEditSchema().load(json_body()))
    db.session.commit()
    return detail(household)


def change_household(household: Household, data: dict) -> bool:
    """Validated data (HouseholdEditSchema, its reason included) onto the household; whether
    anything changed. A class change goes into the class history with its reason."""
    reason = data.pop("reason", None)
    if "village_id" in data:
        _check_village(data["village_id"])
    before = snapshot(household, HOUSEHOLD_FIELDS)
    for name, value in data.items():
        setattr(household, name, value)
    changed_before, changed_after = audit.diff(before, snapshot(household, HOUSEHOLD_FIELDS))
    if changed_after:
        audit.record("update", "household", household.id, changed_before, changed_after, reason)
        coverage.household_changed(household, before, reason)
    return bool(changed_after)


@bp.post("/households/<int:household_id>/members")
@login_required
@documented(
    "registry",
    {201: MemberSchema},
    body=MemberInSchema,
    errors={403: None, 409: "This ID number is already a member"},
)
def add_member(household_id: int):
    """Add a member to a household (supervisors and admins)."""
    household = _load_household(household_id)
    access.require(access.can_edit_registry(current_user))
    member = new_member(household, MemberInSchema().load(json_body()))
    db.session.commit()
    return MemberSchema().dump(member), 201


def _refuse_duplicate(household: Household, id_number: str | None, member=None) -> None:
    if any(m.id_number == id_number for m in household.members if m is not member):
        raise ApiError(
            409, "conflict", "This ID number is already a member.", {"id_number": ["Already used."]}
        )


def new_member(household: Household, data: dict, reason: str | None = None) -> Member:
    """A member from validated data (MemberInSchema) at the end of the household."""
    _refuse_duplicate(household, data["id_number"])
    member = _add_member(household, data, len(household.members))
    db.session.flush()
    audit.record("create", "member", member.id, after=member_snapshot(member), reason=reason)
    return member


@bp.patch("/members/<int:member_id>")
@login_required
@documented(
    "registry",
    {200: MemberSchema},
    body=MemberInSchema(partial=True),
    errors={403: None, 409: "This ID number is already a member"},
)
def edit_member(member_id: int):
    """Change a member's fields (supervisors and admins)."""
    member = access.get_member(current_user, member_id)
    access.require(access.can_edit_registry(current_user))
    change_member(member, MemberInSchema(partial=True).load(json_body()))
    db.session.commit()
    return MemberSchema().dump(member)


def change_member(member: Member, data: dict, reason: str | None = None) -> bool:
    """Validated data (MemberInSchema, partial) onto the member; whether anything changed."""
    if "id_number" in data:
        _refuse_duplicate(member.household, data["id_number"], member)
    before = member_snapshot(member)
    old_id_number = member.id_number
    for name, value in data.items():
        setattr(member, name, value)
    changed_before, changed_after = audit.diff(before, member_snapshot(member))
    # Two ID numbers can share their mask: the change is recorded all the same.
    if not changed_after and member.id_number != old_id_number:
        changed_before, changed_after = (
            {"id_number": before["id_number"]},
            {"id_number": idcard.mask(member.id_number)},
        )
    if changed_after:
        audit.record("update", "member", member.id, changed_before, changed_after, reason)
    return bool(changed_after)


@bp.delete("/members/<int:member_id>")
@login_required
@documented("registry", {204: "Removed"}, errors=[403])
def remove_member(member_id: int):
    """Remove a member from a household (supervisors and admins)."""
    member = access.get_member(current_user, member_id)
    access.require(access.can_edit_registry(current_user))
    delete_member(member)
    db.session.commit()
    return "", 204


def delete_member(member: Member, reason: str | None = None) -> None:
    # The member row goes: the event keeps which household it belonged to, for its history.
    before = member_snapshot(member) | {"household_id": member.household_id}
    audit.record("delete", "member", member.id, before=before, reason=reason)
    db.session.delete(member)


@bp.post("/members/<int:member_id>/id-number")
@login_required
@documented("registry", {200: IdNumberSchema}, body=UnmaskSchema, errors=[403])
def unmask_id_number(member_id: int):
    """The full ID number, for a role that needs it and says why; the reading is audited."""
    member = access.get_member(current_user, member_id)
    access.require(access.can_unmask_id_numbers(current_user))
    id_number = reveal_id_number(member, UnmaskSchema().load(json_body())["reason"])
    db.session.commit()
    return IdNumberSchema().dump({"id_number": id_number})


def reveal_id_number(member: Member, reason: str) -> str:
    """The full ID number; who read it, when and why goes into the audit trail."""
    audit.record("unmask", "member", member.id, reason=reason)
    return member.id_number


@bp.post("/households/<int:household_id>/assignments")
@login_required
@documented("registry", {200: HouseholdDetailSchema}, body=AssignSchema, errors=[403])
def assign_cadre(household_id: int):
    """Make a cadre responsible for a household (supervisors and admins)."""
    household = _load_household(household_id)
    access.require(access.can_edit_registry(current_user))
    cadre = access.get_cadre(current_user, AssignSchema().load(json_body())["cadre_id"])
    if assign(household, cadre):
        db.session.commit()
    return detail(household)


def assign(household: Household, cadre: User, reason: str | None = None) -> bool:
    """Make the cadre (from access.cadres) responsible; False when already so."""
    if cadre in household.cadres:
        return False
    db.session.add(Assignment(household=household, cadre=cadre))
    after = {"cadre_id": cadre.id}
    audit.record("assign", "household", household.id, after=after, reason=reason)
    return True


@bp.delete("/households/<int:household_id>/assignments/<int:cadre_id>")
@login_required
@documented("registry", {200: HouseholdDetailSchema}, errors=[403])
def unassign_cadre(household_id: int, cadre_id: int):
    """End a cadre's responsibility for a household; the history is kept."""
    household = _load_household(household_id)
    access.require(access.can_edit_registry(current_user))
    unassign(household, cadre_id)
    db.session.commit()
    return detail(household)


def unassign(household: Household, cadre_id: int, reason: str | None = None) -> None:
    """End a cadre's responsibility; the assignment stays as history."""
    current = [a for a in household.assignments if a.ended_at is None and a.cadre_id == cadre_id]
    if not current:
        raise ApiError(404, "not_found", "This cadre is not assigned to this household.")
    for assignment in current:
        assignment.ended_at = utcnow()
    before = {"cadre_id": cadre_id}
    audit.record("unassign", "household", household.id, before=before, reason=reason)
