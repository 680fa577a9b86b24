"""Accounts (账户) and a cadre's page: admins and town supervisors create cadre and
village-committee accounts in their scope, list them, disable and enable them, and reset
their passwords. The rules are in server/accounts.py, shared with `flask user`."""

from flask import redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _
from flask_login import current_user
from sqlalchemy import exists, false, func, or_, select

from .. import access, accounts, pagination
from ..auth import check_form_csrf
from ..coverage import labels as coverage_labels
from ..coverage import stats
from ..coverage.periods import current_month, local_zone
from ..extensions import db
from ..models import (
    Assignment,
    AuditEvent,
    Household,
    NeedsAction,
    Town,
    User,
    Village,
    utcnow,
)
from . import audit_labels
from .audit import names_for as audit_names
from .site import bp, office_page
from .web import after_arg

PAGE_SIZE = 50
HISTORY_SIZE = 20  # an account's latest changes; the log holds them all


def _require_manager() -> None:
    access.require(access.can_manage_accounts(current_user))


@bp.get("/accounts", endpoint="accounts")
@office_page
def accounts_list():
    _require_manager()
    query = access.accounts(current_user)
    search = (request.args.get("q") or "").strip()[:64]
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            or_(
                func.lower(User.username).like(pattern),
                func.lower(User.display_name).like(pattern),
                User.phone.like(f"%{search}%"),
            )
        )
    kind = request.args.get("kind") or ""
    if kind:
        query = _of_kind(query, kind)
    village_id = request.args.get("village") or ""
    if village_id:
        query = _of_village(query, village_id)
    after = after_arg()
    if after is not None:
        query = query.where(User.id > after)
    rows = db.session.scalars(query.order_by(User.id).limit(PAGE_SIZE + 1)).all()
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    next_url = None
    if more:
        next_url = url_for(
            "office.accounts",
            **(request.args.to_dict() | {"after": pagination.encode(rows[-1].id)}),
        )
    return render_template(
        "office/accounts.html",
        rows=rows,
        kind_of=accounts.kind_of,
        kinds=accounts.KIND_LABELS,
        villages=db.session.scalars(access.villages(current_user)).all(),
        next_url=next_url,
    )


def _of_kind(query, kind: str):
    if kind == "village":
        return query.where(User.role == "supervisor", User.villages.any())
    if kind == "town":
        return query.where(User.role == "supervisor", ~User.villages.any())
    if kind in ("cadre", "admin"):
        return query.where(User.role == kind)
    return query.where(false())


def _of_village(query, raw: str):
    """Village committees of the village, and cadres holding a household in it."""
    village = access.get_village(current_user, int(raw)) if raw.isdigit() else None
    if village is None:
        return query.where(User.id.is_(None))
    holds = exists(
        select(Assignment.id)
        .join(Household, Household.id == Assignment.household_id)
        .where(
            Assignment.cadre_id == User.id,
            Assignment.ended_at.is_(None),
            Household.village_id == village.id,
        )
    )
    return query.where(or_(User.villages.any(Village.id == village.id), holds))


@bp.route("/accounts/new", methods=["GET", "POST"])
@office_page
def account_new():
    _require_manager()
    error = None
    if request.method == "POST":
        check_form_csrf()
        try:
            user, one_time = accounts.create(current_user, _new_account_from(request.form))
        except accounts.AccountError as failure:
            error = failure
        else:
            db.session.commit()
            return _one_time_page(user, one_time, created=True)
    towns = (
        db.session.scalars(select(Town).order_by(Town.name)).all()
        if current_user.role == "admin"
        else []
    )
    page = render_template(
        "office/account_new.html",
        error=error,
        form=request.form,
        kinds={k: accounts.KIND_LABELS[k] for k in accounts.kinds_for(current_user)},
        towns=towns,
        villages=db.session.scalars(access.villages(current_user)).all(),
    )
    return page, 422 if error else 200


def _new_account_from(form) -> accounts.NewAccount:
    if current_user.role == "admin":
        raw_town = form.get("town", "")
        town = db.session.get(Town, int(raw_town)) if raw_town.isdigit() else None
    else:
        town = current_user.town
    wanted = {int(v) for v in form.getlist("villages") if v.isdigit()}
    if len(wanted) != len(form.getlist("villages")):
        raise accounts.AccountError("villages", _("Unknown village."))
    villages = ()
    if wanted:
        villages = tuple(
            db.session.scalars(access.villages(current_user).where(Village.id.in_(wanted)))
        )
        if len(villages) != len(wanted):
            raise accounts.AccountError("villages", _("Unknown village."))
    return accounts.NewAccount(
        username=form.get("username", "")[:200],
        kind=form.get("kind", ""),
        display_name=form.get("display_name", "")[:200],
        phone=form.get("phone", "")[:200] or None,
        town=town,
        villages=villages,
    )


def _one_time_page(user: User, one_time: str, created: bool):
    return render_template(
        "office/account_password.html", account=user, one_time=one_time, created=created
    )


@bp.get("/accounts/<int:account_id>")
@office_page
def account(account_id: int):
    _require_manager()
    user = access.get_account(current_user, account_id)
    events = db.session.scalars(
        access.audit_events(current_user)
        .where(AuditEvent.entity == "user", AuditEvent.entity_id == user.id)
        .order_by(AuditEvent.id.desc())
        .limit(HISTORY_SIZE)
    ).all()
    return render_template(
        "office/account.html",
        account=user,
        kind=accounts.KIND_LABELS[accounts.kind_of(user)],
        events=events,
        names=audit_names(events),
        labels=audit_labels,
    )


@bp.post("/accounts/<int:account_id>/enabled")
@office_page
def account_enabled(account_id: int):
    _require_manager()
    check_form_csrf()
    user = access.get_account(current_user, account_id)
    enabled = request.form.get("enabled") == "1"
    if user.id == current_user.id and not enabled:
        return _("You cannot disable your own account."), 400
    accounts.set_enabled(current_user, user, enabled)
    db.session.commit()
    return redirect(url_for("office.account", account_id=user.id))


@bp.post("/accounts/<int:account_id>/password")
@office_page
def account_password_reset(account_id: int):
    _require_manager()
    check_form_csrf()
    user = access.get_account(current_user, account_id)
    one_time = accounts.reset_password(current_user, user)
    db.session.commit()
    return _one_time_page(user, one_time, created=False)


@bp.get("/cadres/<int:cadre_id>")
@office_page
def cadre(cadre_id: int):
    person = access.get_cadre_profile(current_user, cadre_id)
    now = utcnow()
    period = current_month(now, local_zone())
    scope = _whole_scope()
    # The phone's figures come from the coverage statistics, as on the cadres' list.
    figures = stats.cadre_rows(scope, [person], period, now)[0]
    held = (
        access.households(current_user)
        .join(Assignment, Assignment.household_id == Household.id)
        .where(Assignment.cadre_id == person.id, Assignment.ended_at.is_(None))
    )
    households = db.session.scalars(held.order_by(Household.code)).all()
    overdue = set(
        db.session.scalars(
            stats.overdue_query(scope, period, now, cadre_id=person.id).with_only_columns(
                Household.id
            )
        )
    )
    tasks = db.session.scalars(
        select(NeedsAction)
        .where(
            NeedsAction.handled_at.is_(None),
            NeedsAction.household_id.in_([h.id for h in households]),
        )
        .order_by(NeedsAction.raised_at)
    ).all()
    return render_template(
        "office/cadre.html",
        cadre=person,
        figures=figures,
        households=households,
        overdue=overdue,
        tasks=tasks,
        households_by_id={h.id: h for h in households},
        sudden_event=coverage_labels.sudden_event,
        can_manage=access.can_manage_accounts(current_user)
        and db.session.scalar(access.accounts(current_user).where(User.id == person.id))
        is not None,
    )


def _whole_scope() -> stats.Scope:
    """Every village the user sees, grouped by town, as the coverage pages count them."""
    groups: dict[int, tuple[Town, list[Village]]] = {}
    for village in db.session.scalars(access.villages(current_user)):
        groups.setdefault(village.town_id, (village.town, []))[1].append(village)
    return stats.Scope(current_user, sorted(groups.values(), key=lambda g: g[0].name))
