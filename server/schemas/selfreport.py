"""What goes in and out of the self-report API, and the public form's fields."""

import re

from flask import url_for
from marshmallow import ValidationError, post_load, pre_load, validate

from ..models import REPORT_CATEGORIES, REPORT_STATUSES, utcnow
from . import fields
from .base import Schema


def _photo_url(report) -> str | None:
    if report.photo_id is None:
        return None
    return url_for("selfreport_api.report_photo", report_id=report.id)


class ReportHouseholdSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(dump_only=True)
    head_name = fields.String(dump_only=True)
    village = fields.Function(lambda h: h.village.name, dump_only=True)


class ReportSchema(Schema):
    """A report as cadres and supervisors see it (the family never sees this)."""

    id = fields.Integer(dump_only=True)
    reference = fields.String(dump_only=True)
    household = fields.Nested(ReportHouseholdSchema, dump_only=True)
    category = fields.String(dump_only=True, validate=validate.OneOf(REPORT_CATEGORIES))
    description = fields.String(dump_only=True)
    urgent = fields.Boolean(dump_only=True)
    priority = fields.Integer(
        dump_only=True,
        metadata={"description": "0 urgent illness/disaster/need help, 1 other urgent, 2 normal"},
    )
    callback_phone = fields.String(dump_only=True, allow_none=True)
    photo_url = fields.Function(_photo_url, dump_only=True, allow_none=True)
    status = fields.String(dump_only=True, validate=validate.OneOf(REPORT_STATUSES))
    received_at = fields.DateTime(dump_only=True)
    due_at = fields.DateTime(
        dump_only=True,
        allow_none=True,
        metadata={"description": "a verification visit is due before this (working days)"},
    )
    late = fields.Function(lambda r: r.late(utcnow()), dump_only=True)
    seen_at = fields.DateTime(dump_only=True, allow_none=True)
    handled_at = fields.DateTime(dump_only=True, allow_none=True)
    handled_note = fields.String(dump_only=True, allow_none=True)
    visit_uuid = fields.Function(
        lambda r: r.visit.uuid if r.visit is not None else None, dump_only=True, allow_none=True
    )
    responded_at = fields.DateTime(dump_only=True, allow_none=True)
    response_seconds = fields.Integer(dump_only=True, allow_none=True)


class ReportQuerySchema(Schema):
    status = fields.String(
        load_default="open", validate=validate.OneOf(("open", "late", "handled", "all"))
    )
    household_id = fields.Id()
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 200))


class HandledSchema(Schema):
    note = fields.String(required=True, validate=validate.Length(1, 500))

    @pre_load
    def strip(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("note"), str):
            data = data | {"note": data["note"].strip()}
        return data


# Mobile numbers (11 digits from 1), or landlines with their area code (0533-1234567).
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{9,11})$")


def normalise_phone(raw: str) -> str:
    digits = re.sub(r"[\s\-()（）]", "", raw)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits


def _check_phone(value: str) -> None:
    if not _PHONE.match(value):
        raise ValidationError("not a phone number")


class PublicReportSchema(Schema):
    """The family's form. Messages shown to the family come from the page, by field name."""

    category = fields.String(required=True, validate=validate.OneOf(REPORT_CATEGORIES))
    description = fields.String(required=True, validate=validate.Length(2, 500))
    urgency = fields.String(required=True, validate=validate.OneOf(("urgent", "normal")))
    phone = fields.String(load_default=None, validate=_check_phone)

    @pre_load
    def tidy(self, data, **kwargs):
        data = {k: v.strip() for k, v in data.items() if isinstance(v, str)}
        if data.get("phone"):
            data["phone"] = normalise_phone(data["phone"])
        else:
            data.pop("phone", None)
        return {k: v for k, v in data.items() if k in self.fields and v != ""}

    @post_load
    def urgent_flag(self, data, **kwargs):
        data["urgent"] = data.pop("urgency") == "urgent"
        return data
