"""Support measures (帮扶措施) on a household: the office sets them and ends them; cadres see
them on their phones and confirm at each visit which were carried out (visit.measures)."""

from datetime import date

from flask import Blueprint
from flask_login import current_user, login_required

from . import access, audit
from .apidoc import documented
from .errors import ApiError, json_body
from .extensions import db
from .models import Household, SupportMeasure
from .schemas.households import MeasureEndSchema, MeasureInSchema, MeasureSchema

bp = Blueprint("measures", __name__, url_prefix="/api")
FIELDS = ("kind", "detail", "amount_fen", "started_on", "ended_on")


def _snapshot(measure: SupportMeasure) -> dict:
    return {name: _plain(getattr(measure, name)) for name in FIELDS} | {
        "household_id": measure.household_id
    }


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _editable_household(household_id: int) -> Household:
    household = access.get_household(current_user, household_id)
    access.require(access.can_edit_registry(current_user))
    return household


@bp.post("/households/<int:household_id>/measures")
@login_required
@documented("registry", {201: MeasureSchema}, body=MeasureInSchema, errors=[403])
def add_measure(household_id: int):
    """Set a support measure on a household (supervisors and admins)."""
    household = _editable_household(household_id)
    measure = start_measure(household, MeasureInSchema().load(json_body()))
    db.session.commit()
    return MeasureSchema().dump(measure), 201


@bp.post("/measures/<int:measure_id>/end")
@login_required
@documented(
    "registry",
    {200: MeasureSchema},
    body=MeasureEndSchema,
    errors={403: None, 409: "The measure has ended already"},
)
def end_measure(measure_id: int):
    """End a support measure from a date (supervisors and admins); it stays in the history."""
    measure = access.get_measure(current_user, measure_id)  # outside the scope: 404
    access.require(access.can_edit_registry(current_user))
    stop_measure(measure, MeasureEndSchema().load(json_body())["ended_on"])
    db.session.commit()
    return MeasureSchema().dump(measure)


def start_measure(household: Household, data: dict) -> SupportMeasure:
    """A new measure from validated data (MeasureInSchema); audited; the caller commits."""
    measure = SupportMeasure(household=household, created_by_id=current_user.id, **data)
    db.session.add(measure)
    db.session.flush()
    audit.record("create", "support_measure", measure.id, after=_snapshot(measure))
    return measure


def stop_measure(measure: SupportMeasure, ended_on: date) -> None:
    """End a measure from a date; audited; the caller commits."""
    if measure.ended_on is not None:
        raise ApiError(409, "already_ended", "This measure has ended already.")
    if ended_on < measure.started_on:
        message = "Cannot end before it started."
        raise ApiError(422, "validation_failed", message, {"ended_on": [message]})
    before = _snapshot(measure)
    measure.ended_on = ended_on
    audit.record("update", "support_measure", measure.id, before, _snapshot(measure))
