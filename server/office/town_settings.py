"""An admin's page for a town's settings: the visit rhythm by class, the flag thresholds,
and the working days a self-report may wait, with the town's own holidays and working days."""

import re
from datetime import date

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import EXCLUDE, ValidationError, validate

from .. import access, audit
from ..auth import check_form_csrf
from ..extensions import db
from ..models import KLASSES, Town
from ..schemas import fields
from ..schemas.base import Schema
from ..settings import for_town
from .site import office_page
from .web import bp

LIMITS = {
    "flag_distance_m": (50, 100_000),
    "device_clock_tolerance_s": (60, 86_400),
    "flag_accuracy_max_m": (10, 10_000),
    "flag_speed_window_min": (5, 1_440),
    "flag_speed_min_distance_m": (100, 100_000),
    "flag_speed_kmh": (5, 500),
}


REPORT_DAYS = {"normal": (1, 30), "urgent": (1, 10)}


def _dates(raw: str) -> list[str]:
    """ISO dates separated by spaces, commas or new lines; refuses anything else."""
    days = []
    for word in re.split(r"[\s,，、;；]+", raw.strip()):
        if not word:
            continue
        try:
            days.append(date.fromisoformat(word).isoformat())
        except ValueError:
            raise ValidationError("Not a date (YYYY-MM-DD).") from None
    if len(days) > 400:
        raise ValidationError("Too many dates.")
    return sorted(set(days))


class DateList(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        return _dates(super()._deserialize(value, attr, data, **kwargs))


# The form's fields: rhythm_A..rhythm_D in days, the thresholds, the report deadlines and
# the town's marked days.
TownSettingsSchema = Schema.from_dict(
    {f"rhythm_{k}": fields.Integer(required=True, validate=validate.Range(1, 366)) for k in KLASSES}
    | {
        name: fields.Integer(required=True, validate=validate.Range(low, high))
        for name, (low, high) in LIMITS.items()
    }
    | {
        f"report_days_{kind}": fields.Integer(validate=validate.Range(low, high))
        for kind, (low, high) in REPORT_DAYS.items()
    }
    | {"extra_holidays": DateList(), "extra_workdays": DateList()},
    name="TownSettingsSchema",
)


def _form_values(settings: dict) -> dict:
    values = {f"rhythm_{k}": settings["rhythm_days"][k] for k in KLASSES}
    values |= {f"report_days_{k}": settings["report_response_days"][k] for k in REPORT_DAYS}
    values |= {name: " ".join(settings[name]) for name in ("extra_holidays", "extra_workdays")}
    return values | {name: settings[name] for name in LIMITS}


def _stored(data: dict, before: dict) -> dict:
    """The form's values; a field the form left out keeps what the town had."""
    days = {k: data.get(f"report_days_{k}", before["report_response_days"][k]) for k in REPORT_DAYS}
    marked = {name: data.get(name, before[name]) for name in ("extra_holidays", "extra_workdays")}
    return (
        {"rhythm_days": {k: data[f"rhythm_{k}"] for k in KLASSES}}
        | {name: data[name] for name in LIMITS}
        | {"report_response_days": days}
        | marked
    )


@bp.route("/towns/<int:town_id>/settings", methods=["GET", "POST"])
@office_page
def town_settings(town_id: int):
    access.require(current_user.role == "admin")
    town = db.session.get(Town, town_id)
    if town is None:
        abort(404)
    values, errors, saved = _form_values(for_town(town)), {}, request.args.get("saved")
    if request.method == "POST":
        check_form_csrf()
        values = request.form.to_dict()
        try:
            data = TownSettingsSchema(unknown=EXCLUDE).load(values)
        except ValidationError as invalid:
            errors = invalid.messages
        else:
            before = for_town(town)
            town.settings = _stored(data, before)
            audit.record("update", "town", town.id, *audit.diff(before, for_town(town)))
            db.session.commit()
            return redirect(url_for("office.town_settings", town_id=town.id, saved=1))
    status = 422 if errors else 200
    page = render_template(
        "office/town_settings.html",
        town=town,
        values=values,
        errors=errors,
        saved=saved,
        klasses=KLASSES,
        limits=LIMITS,
        report_days=REPORT_DAYS,
    )
    return page, status
