"""The office sets and ends a household's support measures from its page (the same rules
and audit as the API in server/measures.py); a plain sentence for what does not fit."""

from datetime import date

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from .. import access
from ..auth import check_form_csrf
from ..errors import ApiError
from ..extensions import db
from ..measures import start_measure, stop_measure
from ..params import decimal_text
from ..schemas.households import MeasureInSchema
from .households import household_page
from .site import office_page
from .web import bp


def _labels() -> dict:
    return {
        "kind": _("Measure"),
        "detail": _("Detail"),
        "amount_fen": _("Yearly amount (yuan)"),
        "started_on": _("Start date"),
        "ended_on": _("End date"),
    }


def _refuse(household, fields):
    """The household page again, with the sentence naming the fields (as its other forms)."""
    names = ", ".join(_labels().get(f, f) for f in fields)
    sentence = _("Check these fields and send again: %(fields)s.", fields=names)
    return household_page(household, sentence, 422)


def _fen(yuan: str) -> int | None | str:
    """Yuan as typed ("1500", "1,500.50") in fen; "" for none; the text itself when wrong."""
    if not yuan.strip():
        return None
    amount = decimal_text(yuan)
    return yuan if amount is None else int(amount * 100)


def _back(household_id: int, done: str):
    flash(done)
    return redirect(url_for("office.household", household_id=household_id) + "#measures")


@bp.post("/households/<int:household_id>/measures")
@office_page
def add_measure_form(household_id: int):
    check_form_csrf()
    household = access.get_household(current_user, household_id)
    access.require(access.can_edit_registry(current_user))
    form = request.form
    raw = {
        "kind": form.get("kind", ""),
        "detail": form.get("detail", "").strip() or None,
        "amount_fen": _fen(form.get("amount_yuan", "")),
        "started_on": form.get("started_on", ""),
    }
    try:
        data = MeasureInSchema().load(raw)
    except ValidationError as error:
        return _refuse(household, error.messages)
    start_measure(household, data)
    db.session.commit()
    return _back(household.id, _("Support measure added."))


@bp.post("/measures/<int:measure_id>/end")
@office_page
def end_measure_form(measure_id: int):
    check_form_csrf()
    measure = access.get_measure(current_user, measure_id)
    access.require(access.can_edit_registry(current_user))
    try:
        ended_on = date.fromisoformat(request.form.get("ended_on", ""))
    except ValueError:
        return _refuse(measure.household, ["ended_on"])
    try:
        stop_measure(measure, ended_on)
    except ApiError as error:
        db.session.rollback()
        message = {
            409: _("This measure has ended already."),
            422: _("A measure cannot end before it started."),
        }
        return household_page(
            measure.household, message.get(error.status, error.message), error.status
        )
    db.session.commit()
    return _back(measure.household_id, _("Support measure ended."))
