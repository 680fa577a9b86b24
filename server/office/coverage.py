"""Coverage pages: the overview grid, the cadres, the overdue list, a village map."""

from flask import abort, render_template
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import access
from ..coverage import stats
from ..coverage.charts import map_svg, trend_svg
from ..coverage.periods import local_zone, recent_months
from ..extensions import db
from ..models import (
    Assignment,
    Household,
    Visit,
    VisitFlag,
)
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
        abort(400, _("The page cursor is not valid."))
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
