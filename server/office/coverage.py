"""Coverage pages: the overview grid, the cadres, the overdue list, a household, a village map."""

from flask import abort, render_template
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from .. import access
from ..coverage import stats
from ..coverage.charts import map_svg, trend_svg
from ..coverage.periods import local_zone, recent_months
from ..extensions import db
from ..models import (
    MEASURE_KINDS,
    Assignment,
    AuditEvent,
    CropRecord,
    Household,
    KlassChange,
    Member,
    NeedsAction,
    Visit,
    VisitFlag,
    utcnow,
)
from ..schedule import next_due
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

TREND_MONTHS = 12


@bp.get("/")
@office_page
def overview():
    period, scope = period_arg(), scope_arg()
    grids = stats.grids(scope, period, now())
    months = recent_months(period, TREND_MONTHS)
    series = stats.trend(scope, months, _households_now(grids, period)) if scope.groups else {}
    labels = [format_date(m.start.astimezone(local_zone()), "MMM") for m in months]
    chart = trend_svg(labels, series, _("Coverage by month and class")) if series else ""
    return render_template(
        "office/overview.html",
        period=period,
        grids=grids,
        scope=scope,
        chart=chart,
        months=months,
        towns=_towns_for_selector(),
        judged_at=period.moment(now()),
    )


def _households_now(grids, period) -> dict | None:
    """For the running month the grid already counted today's households by class."""
    if period.end <= now():
        return None
    counts = {}
    for grid in grids:
        for klass, cell in grid.totals.items():
            counts[klass] = counts.get(klass, 0) + cell.households
    return counts


def _towns_for_selector():
    villages = db.session.scalars(access.villages(current_user)).all()
    return sorted({v.town for v in villages}, key=lambda t: t.name)


@bp.get("/cadres")
@office_page
def cadres():
    period, scope = period_arg(), scope_arg()
    rows = stats.cadre_page(scope, period, now(), after_arg(), PAGE_SIZE)
    return render_template(
        "office/cadres.html",
        period=period,
        scope=scope,
        rows=rows[:PAGE_SIZE],
        next_after=next_cursor(rows, lambda r: r.cadre.id),
        towns=_towns_for_selector(),
    )


@bp.get("/overdue")
@office_page
def overdue():
    period, scope, klass = period_arg(), scope_arg(), klass_arg()
    cadre = None
    cadre_id = int_arg("cadre")
    if cadre_id is not None:
        cadre = stats.visible_cadre(scope, cadre_id)
        if cadre is None:
            abort(404)
    query = stats.overdue_query(scope, period, now(), klass=klass, cadre_id=cadre_id)
    after = after_arg()
    last = db.session.get(Household, after) if after is not None else None
    if after is not None and last is None:
        abort(400, "The page cursor is not valid.")
    households = db.session.scalars(
        stats.village_order(query, (last.village_id, last.id) if last else None)
        .options(
            selectinload(Household.village),
            selectinload(Household.assignments).selectinload(Assignment.cadre),
        )
        .limit(PAGE_SIZE + 1)
    ).all()
    return render_template(
        "office/overdue.html",
        period=period,
        scope=scope,
        klass=klass,
        cadre=cadre,
        households=households[:PAGE_SIZE],
        next_after=next_cursor(households, lambda h: h.id),
        rhythm=scope.rhythm_of_village(),
        judged_at=period.moment(now()),
    )


@bp.get("/households/<int:household_id>")
@office_page
def household(household_id: int):
    household = access.get_household(current_user, household_id)
    visits = _visit_page(household)
    visit_ids = [v.id for v in visits]
    return render_template(
        "office/household.html",
        household=household,
        visits=visits[:PAGE_SIZE],
        next_after=next_cursor(visits, lambda v: v.id),
        flags=_flags_by_visit(visit_ids),
        crops=_crops_by_visit(visit_ids),
        changes=_changes(household),
        klass_changes=db.session.scalars(
            select(KlassChange)
            .where(KlassChange.household_id == household.id)
            .order_by(KlassChange.changed_at.desc())
        ).all(),
        needs=db.session.scalars(
            select(NeedsAction)
            .where(NeedsAction.household_id == household.id)
            .order_by(NeedsAction.raised_at.desc())
            .limit(20)
        ).all(),
        next_due_at=next_due(
            household.last_visit_at, household.klass, stats.rhythm_for(household.village.town)
        ),
        measure_kinds=MEASURE_KINDS,
        today=utcnow().astimezone(local_zone()).date().isoformat(),
    )


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
            abort(400, "The page cursor is not valid.")
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
    for flag in db.session.scalars(select(VisitFlag).where(VisitFlag.visit_id.in_(visit_ids))):
        found.setdefault(flag.visit_id, []).append(flag)
    return found


def _crops_by_visit(visit_ids) -> dict[int, list[CropRecord]]:
    found = {}
    for crop in db.session.scalars(select(CropRecord).where(CropRecord.visit_id.in_(visit_ids))):
        found.setdefault(crop.visit_id, []).append(crop)
    return found


def _changes(household: Household) -> list[AuditEvent]:
    """The household's audit trail, with its members' (ID numbers in them are masked)."""
    member_ids = select(Member.id).where(Member.household_id == household.id)
    return db.session.scalars(
        select(AuditEvent)
        .where(
            or_(
                and_(AuditEvent.entity == "household", AuditEvent.entity_id == household.id),
                and_(AuditEvent.entity == "member", AuditEvent.entity_id.in_(member_ids)),
            )
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(100)
    ).all()


@bp.get("/villages/<int:village_id>/map")
@office_page
def village_map(village_id: int):
    village = access.get_village(current_user, village_id)
    period = period_arg()
    households = db.session.scalars(
        access.households(current_user).where(
            Household.village_id == village.id, Household.active.is_(True)
        )
    ).all()
    home_points = []
    for household in households:
        if household.lat is not None and household.lon is not None:
            home_points.append(
                {"lat": household.lat, "lon": household.lon, "label": household.head_name}
            )
    flagged = select(VisitFlag.visit_id).where(
        VisitFlag.kind.in_(("far_from_home", "implausible_speed", "bad_accuracy"))
    )
    visit_points = [
        {
            "lat": lat,
            "lon": lon,
            "label": f"{name} {visited_at.astimezone(local_zone()):%m-%d %H:%M}",
            "flagged": bool(flag),
        }
        for lat, lon, name, visited_at, flag in db.session.execute(
            select(
                Visit.lat, Visit.lon, Household.head_name, Visit.visited_at, Visit.id.in_(flagged)
            )
            .join(Household, Household.id == Visit.household_id)
            .where(
                access.household_condition(current_user),
                Household.village_id == village.id,
                Visit.visited_at >= period.start,
                Visit.visited_at < period.end,
                Visit.lat.is_not(None),
                Visit.lon.is_not(None),
            )
            .limit(5000)
        )
    ]
    return render_template(
        "office/map.html",
        village=village,
        period=period,
        svg=map_svg(home_points, visit_points, village.name),
        households=len(households),
        placed=len(home_points),
        visits=len(visit_points),
    )
