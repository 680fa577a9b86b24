"""户籍: the registry in the browser. The household list (search, filters, pages), adding a
household, and the household page where its members, 帮扶责任人, class and measures are kept.

The forms are thin: each reads its fields, loads them through the API's schema and calls the
same function the JSON API calls (server/households.py), so the rules, the scope and the
audit are the API's. A form that does not fit changes nothing and is answered with the page
and a plain sentence saying which fields to check.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from .. import access
from ..auth import check_form_csrf
from ..coverage import stats
from ..coverage.periods import local_zone
from ..errors import ApiError
from ..extensions import db
from ..households import (
    assign,
    change_household,
    change_member,
    delete_member,
    new_household,
    new_member,
    reveal_id_number,
    unassign,
)
from ..models import (
    KLASSES,
    MEASURE_KINDS,
    Assignment,
    CropRecord,
    Household,
    Member,
    NeedsAction,
    User,
    Visit,
    VisitFlag,
    utcnow,
)
from ..params import row_id
from ..schedule import next_due
from ..schemas.households import (
    HouseholdCreateSchema,
    HouseholdEditSchema,
    MemberInSchema,
    UnmaskSchema,
)
from ..selfreport import reports
from . import audit_labels
from .audit import household_events, names_for
from .site import office_page
from .web import (
    PAGE_SIZE,
    after_arg,
    bp,
    int_arg,
    klass_arg,
    next_cursor,
    now,
    period_arg,
    scope_arg,
)

HEAD = "户主"
# Offered, not enforced: the registry holds whatever words the county's lists use.
RELATIONS = (HEAD, "配偶", "之子", "之女", "儿媳", "女婿", "之孙子", "之孙女", "之父", "之母")
HEALTH = ("健康", "长期慢性病", "大病", "残疾")
LABOUR = ("普通劳动力", "技能劳动力", "弱劳动力", "丧失劳动力", "无劳动力")
MEMBER_FIELDS = ("name", "id_number", "relation", "health", "labour_capacity")
NEW_MEMBER_ROWS = 6
REASON_MAX = 200
SEARCH_MAX = 64


# --- plain sentences for a refused form --------------------------------------------------


def _labels(messages, prefix: str = "", entity: str = "household") -> list[str]:
    """The fields named in a schema's messages, nested member rows as "成员 2 身份证号"."""
    if not isinstance(messages, dict):
        return [prefix] if prefix else []
    names = []
    for key, value in messages.items():
        if key == "members" and isinstance(value, dict):
            for index, row in value.items():
                row_name = _("Member %(n)s", n=int(index) + 1) if str(index).isdigit() else ""
                names += _labels(row, f"{row_name} ", "member")
        elif key == "_schema":
            names += [prefix.strip()] if prefix.strip() else []
        else:
            names.append(f"{prefix}{audit_labels.field_label(entity, key)}")
    return names


def _history(household: Household) -> dict:
    """The household's change history, drawn as the log draws it (one table of words)."""
    events = household_events(household)
    return {"events": events, "names": names_for(events), "labels": audit_labels}


def refusal(error: Exception) -> str:
    if isinstance(error, ValidationError):
        fields = "、".join(_labels(error.messages)) or _("the form")
        return _("Check these fields and send again: %(fields)s.", fields=fields)
    if isinstance(error, ApiError) and error.status == 409:
        return _("Already in the registry: %(fields)s.", fields="、".join(_labels(error.fields)))
    if isinstance(error, ApiError) and error.fields:
        fields = "、".join(_labels(error.fields))
        return _("Check these fields and send again: %(fields)s.", fields=fields)
    return str(error)


def _reason(required: bool = True) -> str | None:
    text = (request.form.get("reason") or "").strip()
    if (required and not text) or len(text) > REASON_MAX:
        raise ValidationError({"reason": [""]})
    return text or None


def _text(name: str) -> str | None:
    return (request.form.get(name) or "").strip() or None


# --- the list ----------------------------------------------------------------------------


def _search(text: str):
    """Head of household or any member by part of the name; the household code by its start."""
    like = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    named = select(Member.household_id).where(Member.name.like(f"%{like}%", escape="\\"))
    return or_(
        Household.head_name.like(f"%{like}%", escape="\\"),
        Household.code.like(f"{like}%", escape="\\"),
        Household.id.in_(named),
    )


@bp.get("/households")
@office_page
def households():
    query = access.households(current_user)
    text = (request.args.get("q") or "").strip()[:SEARCH_MAX]
    if text:
        query = query.where(_search(text))
    village_id = int_arg("village")
    if village_id is not None:
        query = query.where(Household.village_id == access.get_village(current_user, village_id).id)
    klass = klass_arg()
    if klass:
        query = query.where(Household.klass == klass)
    cadre_id = int_arg("cadre")
    if cadre_id is not None:
        cadre = access.get_cadre(current_user, cadre_id)
        query = query.where(
            Household.id.in_(access.active_assignments().where(Assignment.cadre_id == cadre.id))
        )
    overdue = request.args.get("overdue") == "1"
    if overdue:
        late = stats.overdue_query(scope_arg(), period_arg(), now())
        query = query.where(Household.id.in_(late.with_only_columns(Household.id)))
    after = after_arg()
    if after is not None:
        query = query.where(Household.id > after)
    rows = db.session.scalars(
        query.options(
            selectinload(Household.village),
            selectinload(Household.assignments).selectinload(Assignment.cadre),
        )
        .order_by(Household.id)
        .limit(PAGE_SIZE + 1)
    ).all()
    return render_template(
        "office/households.html",
        rows=rows[:PAGE_SIZE],
        next_after=next_cursor(rows, lambda h: h.id),
        q=text,
        klass=klass,
        overdue=overdue,
        klasses=KLASSES,
        cadres=_cadres(),
    )


def _cadres() -> list[User]:
    return db.session.scalars(access.cadres(current_user).order_by(User.display_name)).all()


# --- adding a household ------------------------------------------------------------------


def _member_rows(form) -> list[dict]:
    """The filled rows of the new-household form; a row with no name and no ID is blank."""
    rows = []
    for i in range(NEW_MEMBER_ROWS):
        row = {name: (form.get(f"{name}_{i}") or "").strip() for name in MEMBER_FIELDS}
        if row["name"] or row["id_number"]:
            rows.append({k: v for k, v in row.items() if v})
    return rows


def _new_household_data(form) -> dict:
    members = _member_rows(form)
    heads = [m for m in members if m.get("relation") == HEAD]
    if len(heads) != 1:
        raise ValidationError({"relation": [""]})
    village_id = row_id(form.get("village_id"))
    if village_id is None:
        raise ValidationError({"village_id": [""]})
    raw = {
        "code": form.get("code", ""),
        "village_id": village_id,
        "klass": form.get("klass", ""),
        "head_name": heads[0].get("name", ""),
        "members": members,
    }
    raw |= {name: form[name].strip() for name in ("phone", "address") if form.get(name, "").strip()}
    return HouseholdCreateSchema().load(raw)


def _new_form(values: dict, error: str | None = None, status: int = 200):
    page = render_template(
        "office/household_new.html",
        values=values,
        error=error,
        villages=db.session.scalars(access.villages(current_user)).all(),
        klasses=KLASSES,
        rows=range(NEW_MEMBER_ROWS),
        relations=RELATIONS,
        health=HEALTH,
        labour=LABOUR,
    )
    return page, status


@bp.get("/households/new")
@office_page
def new_household_form():
    access.require(access.can_edit_registry(current_user))
    return _new_form({"relation_0": HEAD})


@bp.post("/households")
@office_page
def add_household():
    check_form_csrf()
    access.require(access.can_edit_registry(current_user))
    try:
        household = new_household(_new_household_data(request.form))
    except ValidationError as error:
        db.session.rollback()
        if set(error.messages) == {"relation"}:
            sentence = _("Exactly one member must be the head of household (户主).")
            return _new_form(request.form.to_dict(), sentence, 422)
        return _new_form(request.form.to_dict(), refusal(error), 422)
    except ApiError as error:
        db.session.rollback()
        return _new_form(request.form.to_dict(), refusal(error), 422)
    db.session.commit()
    flash(_("Household added."))
    return redirect(url_for("office.household", household_id=household.id), 303)


# --- the household page ------------------------------------------------------------------


def household_page(household: Household, error: str | None = None, status: int = 200, **extra):
    visits = _visit_page(household)
    visit_ids = [v.id for v in visits]
    page = render_template(
        "office/household.html",
        household=household,
        error=error,
        visits=visits[:PAGE_SIZE],
        next_after=next_cursor(visits, lambda v: v.id),
        flags=_flags_by_visit(visit_ids),
        crops=_crops_by_visit(visit_ids),
        **_history(household),
        needs=db.session.scalars(
            access.needs_actions(current_user)
            .where(NeedsAction.household_id == household.id)
            .order_by(NeedsAction.raised_at.desc())
            .limit(20)
        ).all(),
        reports=reports.tasks(current_user, "all", household.id, limit=20),
        assignments=sorted(household.assignments, key=lambda a: a.started_at, reverse=True),
        cadres=[c for c in _cadres() if c not in household.cadres],
        next_due_at=next_due(
            household.last_visit_at, household.klass, stats.rhythm_for(household.village.town)
        ),
        measure_kinds=MEASURE_KINDS,
        klasses=KLASSES,
        relations=RELATIONS,
        health=HEALTH,
        labour=LABOUR,
        revealed=extra.get("revealed", {}),
        today=utcnow().astimezone(local_zone()).date().isoformat(),
        may_edit=access.can_edit_registry(current_user),
        may_unmask=access.can_unmask_id_numbers(current_user),
    )
    return page, status


@bp.get("/households/<int:household_id>")
@office_page
def household(household_id: int):
    return household_page(access.get_household(current_user, household_id))


def _visit_page(household: Household) -> list[Visit]:
    """Newest first, keyset on (visited_at, id) through the id of the last visit shown."""
    query = (
        access.visits(current_user)
        .where(Visit.household_id == household.id)
        .options(selectinload(Visit.photos), selectinload(Visit.cadre))
    )
    after = after_arg()
    if after is not None:
        last = db.session.get(Visit, after)
        if last is None or last.household_id != household.id:
            abort(400, _("The page cursor is not valid."))
        query = query.where(
            or_(
                Visit.visited_at < last.visited_at,
                and_(Visit.visited_at == last.visited_at, Visit.id < last.id),
            )
        )
    order = (Visit.visited_at.desc(), Visit.id.desc())
    return db.session.scalars(query.order_by(*order).limit(PAGE_SIZE + 1)).all()


def _flags_by_visit(visit_ids) -> dict[int, list[VisitFlag]]:
    found = {}
    for flag in db.session.scalars(
        access.flags(current_user).where(VisitFlag.visit_id.in_(visit_ids))
    ):
        found.setdefault(flag.visit_id, []).append(flag)
    return found


def _crops_by_visit(visit_ids) -> dict[int, list[CropRecord]]:
    found = {}
    for crop in db.session.scalars(select(CropRecord).where(CropRecord.visit_id.in_(visit_ids))):
        found.setdefault(crop.visit_id, []).append(crop)
    return found


def _edit(household_id: int, change, done: str, anchor: str = ""):
    """Run one form's change on a household in scope: committed and back to the page with
    `done` said, or rolled back and the page again with the sentence saying why."""
    check_form_csrf()
    household = access.get_household(current_user, household_id)
    access.require(access.can_edit_registry(current_user))
    try:
        change(household)
    except (ValidationError, ApiError) as error:
        db.session.rollback()
        if isinstance(error, ApiError) and error.status == 404:
            abort(404)
        return household_page(household, refusal(error), 422)
    db.session.commit()
    flash(done)
    return redirect(url_for("office.household", household_id=household.id) + anchor, 303)


@bp.post("/households/<int:household_id>/details")
@office_page
def edit_details(household_id: int):
    def change(household):
        raw = {"head_name": request.form.get("head_name", "")}
        raw |= {"phone": _text("phone"), "address": _text("address")}
        data = HouseholdEditSchema().load(raw)
        reason = _reason(required=False)
        change_household(household, data | ({"reason": reason} if reason else {}))

    return _edit(household_id, change, _("Saved."))


@bp.post("/households/<int:household_id>/class")
@office_page
def change_class(household_id: int):
    def change(household):
        data = HouseholdEditSchema().load({"klass": request.form.get("klass", "")})
        change_household(household, data | {"reason": _reason()})

    return _edit(household_id, change, _("Class changed; the change is in the class history."))


def _member_data(partial: bool = False) -> dict:
    raw = {name: (request.form.get(name) or "").strip() for name in MEMBER_FIELDS}
    if partial and not raw["id_number"]:
        del raw["id_number"]  # left blank: the number stays
    for name in ("health", "labour_capacity"):
        raw[name] = raw[name] or None
    return MemberInSchema(partial=partial).load(raw)


@bp.post("/households/<int:household_id>/members")
@office_page
def add_member(household_id: int):
    def change(household):
        new_member(household, _member_data(), _reason(required=False))

    return _edit(household_id, change, _("Member added."), "#members")


def _member(member_id: int) -> Member:
    member = access.get_member(current_user, member_id)
    access.require(access.can_edit_registry(current_user))
    return member


@bp.post("/members/<int:member_id>/edit")
@office_page
def edit_member(member_id: int):
    member = _member(member_id)

    def change(household):
        change_member(member, _member_data(partial=True), _reason(required=False))

    return _edit(member.household_id, change, _("Member saved."), "#members")


@bp.post("/members/<int:member_id>/remove")
@office_page
def remove_member(member_id: int):
    member = _member(member_id)

    def change(household):
        delete_member(member, _reason())

    return _edit(member.household_id, change, _("Member removed."), "#members")


@bp.post("/members/<int:member_id>/id-number")
@office_page
def unmask_id_number(member_id: int):
    """The full number shows on this one answer only (not cached, audited with the reason)."""
    check_form_csrf()
    member = access.get_member(current_user, member_id)
    access.require(access.can_unmask_id_numbers(current_user))
    household = member.household
    try:
        reason = UnmaskSchema().load({"reason": request.form.get("reason", "").strip()})["reason"]
    except ValidationError:
        sentence = _("Say why you need the full ID number (4 to 200 characters).")
        return household_page(household, sentence, 422)
    number = reveal_id_number(member, reason)
    db.session.commit()
    return household_page(household, revealed={member.id: number})


@bp.post("/households/<int:household_id>/cadres")
@office_page
def assign_cadre(household_id: int):
    def change(household):
        cadre_id = row_id(request.form.get("cadre_id"))
        if cadre_id is None:
            raise ValidationError({"cadre_id": [""]})
        assign(household, access.get_cadre(current_user, cadre_id), _reason(required=False))

    return _edit(household_id, change, _("Cadre responsible assigned."), "#cadres")


@bp.post("/households/<int:household_id>/cadres/<int:cadre_id>/end")
@office_page
def end_assignment(household_id: int, cadre_id: int):
    def change(household):
        # The path names the assignment: a missing or foreign one is a 404 before the form
        # is read, as for every route (the empty reason would otherwise answer first).
        if not any(a.cadre_id == cadre_id and a.ended_at is None for a in household.assignments):
            abort(404)
        unassign(household, cadre_id, _reason())

    return _edit(household_id, change, _("Assignment ended."), "#cadres")
