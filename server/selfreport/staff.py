"""Supervisor and admin pages: the reports list with response times, and door cards."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import access
from ..auth import check_form_csrf, csrf_token, page_login_required
from ..extensions import db
from ..models import Household, HouseholdLink, Village, utcnow
from . import reports, tokens
from .api import photo_response
from .cards import card_for
from .labels import CATEGORY_LABELS, PRIORITY_LABELS, STATUS_LABELS

bp = Blueprint("selfreport_staff", __name__, url_prefix="/supervise")


@bp.before_request
@page_login_required
def _staff_only():
    access.require(access.can_manage_links(current_user))


@bp.after_request
def _not_cached(response):
    """Personal data, and on card sheets links shown only once: nothing kept by the browser."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.context_processor
def _page_context():
    return {
        "csrf_token": csrf_token(),
        "categories": CATEGORY_LABELS,
        "statuses": STATUS_LABELS,
        "priorities": PRIORITY_LABELS,
    }


@bp.get("/reports")
def reports_page():
    status = request.args.get("status", "open")
    if status not in reports.STATUS_FILTERS:
        status = "open"
    rows = reports.tasks(current_user, status, limit=500)
    return render_template(
        "selfreport/reports.html",
        rows=rows,
        status=status,
        summary=reports.summary(current_user),
        now=utcnow(),
    )


@bp.get("/reports/<int:report_id>")
def report_page(report_id: int):
    report = access.get_report(current_user, report_id)
    return render_template("selfreport/report.html", report=report, now=utcnow())


@bp.get("/reports/<int:report_id>/photo")
def report_photo(report_id: int):
    return photo_response(access.get_report(current_user, report_id))


def _link_counts(village_ids) -> dict:
    """Per village: households, and those whose card has been printed with a live link."""
    printed = (
        select(Household.village_id, func.count())
        .join(HouseholdLink, HouseholdLink.household_id == Household.id)
        .where(HouseholdLink.revoked_at.is_(None), HouseholdLink.card_rendered_at.is_not(None))
        .where(Household.village_id.in_(village_ids), Household.active.is_(True))
        .group_by(Household.village_id)
    )
    total = (
        select(Household.village_id, func.count())
        .where(Household.village_id.in_(village_ids), Household.active.is_(True))
        .group_by(Household.village_id)
    )
    printed_by = dict(db.session.execute(printed).all())
    return {vid: (n, printed_by.get(vid, 0)) for vid, n in db.session.execute(total).all()}


@bp.get("/cards")
def cards_index():
    villages = list(db.session.scalars(access.villages(current_user)))
    counts = _link_counts([v.id for v in villages])
    return render_template("selfreport/cards_index.html", villages=villages, counts=counts)


def _village_households(village: Village) -> list[Household]:
    query = (
        access.households(current_user)
        .where(Household.village_id == village.id, Household.active.is_(True))
        .options(selectinload(Household.assignments))
        .order_by(Household.code)
    )
    return list(db.session.scalars(query))


def _live_links(households) -> dict:
    ids = [h.id for h in households]
    rows = db.session.scalars(
        select(HouseholdLink).where(
            HouseholdLink.household_id.in_(ids), HouseholdLink.revoked_at.is_(None)
        )
    )
    return {link.household_id: link for link in rows}


@bp.get("/villages/<int:village_id>/cards")
def village_cards(village_id: int):
    village = access.get_village(current_user, village_id)
    households = _village_households(village)
    links = _live_links(households)
    missing = [h for h in households if tokens.needs_card(links.get(h.id))]
    return render_template(
        "selfreport/village_cards.html",
        village=village,
        households=households,
        links=links,
        missing=missing,
    )


def _print_sheet(households, title: str, back: str):
    """Issue a token for each household and render its card. The only time these links are
    ever shown: the page is not cached, and printing again means issuing again."""
    cards = [card_for(h, tokens.issue(h, current_user, for_card=True)) for h in households]
    db.session.commit()
    # The cards are for the families: always Chinese, whatever the supervisor reads.
    with force_locale("zh"):
        return render_template("selfreport/card_sheet.html", cards=cards, title=title, back=back)


@bp.post("/villages/<int:village_id>/cards")
def issue_village_cards(village_id: int):
    check_form_csrf()
    village = access.get_village(current_user, village_id)
    households = _village_households(village)
    if request.form.get("mode") == "all":
        if request.form.get("confirm") != "yes":
            flash(_("Tick the box to confirm that every card now on a door will stop working."))
            return redirect(url_for(".village_cards", village_id=village.id))
        chosen = households
    else:
        links = _live_links(households)
        chosen = [h for h in households if tokens.needs_card(links.get(h.id))]
    back = url_for(".village_cards", village_id=village.id)
    return _print_sheet(chosen, village.name, back)


@bp.get("/households/<int:household_id>/card")
def household_card(household_id: int):
    household = access.get_household(current_user, household_id)
    return render_template(
        "selfreport/household_card.html",
        household=household,
        link=tokens.live_link(household),
        recent=reports.tasks(current_user, "all", household.id, limit=20),
    )


@bp.post("/households/<int:household_id>/card")
def issue_household_card(household_id: int):
    check_form_csrf()
    household = access.get_household(current_user, household_id)
    link = tokens.live_link(household)
    if (
        link is not None
        and link.card_rendered_at is not None
        and request.form.get("confirm") != "yes"
    ):
        flash(_("Tick the box to confirm that the card now on the door will stop working."))
        return redirect(url_for(".household_card", household_id=household.id))
    back = url_for(".household_card", household_id=household.id)
    return _print_sheet([household], household.village.name, back)


@bp.post("/households/<int:household_id>/card/revoke")
def revoke_household_card(household_id: int):
    check_form_csrf()
    household = access.get_household(current_user, household_id)
    if tokens.revoke(household, current_user):
        flash(_("The card no longer works. Issue a new one when the family needs it."))
    db.session.commit()
    return redirect(url_for(".household_card", household_id=household.id))
