"""What goes in and out of the registry API."""

from marshmallow import (
    ValidationError,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from .. import idcard
from ..errors import Coded
from ..models import CROPS, KLASSES, MEASURE_KINDS, SEXES
from . import fields
from .base import Schema
from .users import CadreRefSchema

PHONE = validate.Regexp(r"^[0-9+\- ]{5,20}$", error="must be a phone number")


def _strip_strings(data):
    if isinstance(data, dict):
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
    return data


class VillageSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    town_id = fields.Integer(dump_only=True)


class MemberSchema(Schema):
    """A member as the API shows it: the ID number always masked."""

    id = fields.Integer(dump_only=True)
    position = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    id_number = fields.Function(lambda m: idcard.mask(m.id_number), dump_only=True)
    relation = fields.String(dump_only=True)
    birth_year = fields.Integer(dump_only=True, allow_none=True)
    sex = fields.String(dump_only=True)
    health = fields.String(dump_only=True, allow_none=True)
    labour_capacity = fields.String(dump_only=True, allow_none=True)


class MemberInSchema(Schema):
    class Meta:
        description = (
            "A household member. birth_year and sex, when left out, are read from id_number; "
            "an ID number appears once per household (409)."
        )

    name = fields.String(required=True, validate=validate.Length(1, 64))
    id_number = fields.String(required=True)
    relation = fields.String(required=True, validate=validate.Length(1, 16))
    birth_year = fields.Integer(allow_none=True, validate=validate.Range(1900, 2100))
    sex = fields.String(validate=validate.OneOf(SEXES))
    health = fields.String(allow_none=True, validate=validate.Length(max=32))
    labour_capacity = fields.String(allow_none=True, validate=validate.Length(max=32))

    @pre_load
    def strip(self, data, **kwargs):
        data = _strip_strings(data)
        if isinstance(data, dict) and isinstance(data.get("id_number"), str):
            data["id_number"] = idcard.normalise(data["id_number"])
        return data

    @validates("id_number")
    def valid_id_number(self, value, **kwargs):
        reason = idcard.problem(value)
        if reason:
            raise ValidationError(f"ID number {reason}.")


class CropSchema(Schema):
    id = fields.Integer(dump_only=True)
    crop = fields.String(dump_only=True, validate=validate.OneOf(CROPS))
    crop_name = fields.String(dump_only=True, allow_none=True)
    area_mu = fields.Mu(dump_only=True)
    plants = fields.Integer(dump_only=True, allow_none=True)
    yield_kg = fields.Integer(dump_only=True, allow_none=True)
    expected_income_fen = fields.Integer(dump_only=True, allow_none=True)
    season_year = fields.Integer(dump_only=True)
    recorded_at = fields.DateTime(dump_only=True)
    visit_id = fields.Integer(dump_only=True, allow_none=True)


class CropSeasonSchema(Schema):
    """A season's plots as last recorded in it, with their total area and income."""

    year = fields.Integer(dump_only=True)
    area_mu = fields.Mu(dump_only=True)
    expected_income_fen = fields.Integer(dump_only=True, allow_none=True)
    plots = fields.List(fields.Nested(CropSchema), dump_only=True)


class MeasureSchema(Schema):
    id = fields.Integer(dump_only=True)
    kind = fields.String(dump_only=True, validate=validate.OneOf(MEASURE_KINDS))
    detail = fields.String(dump_only=True, allow_none=True)
    amount_fen = fields.Integer(dump_only=True, allow_none=True)
    started_on = fields.Date(dump_only=True)
    ended_on = fields.Date(dump_only=True, allow_none=True)


class MeasureInSchema(Schema):
    """A support measure the office sets on a household."""

    class Meta:
        description = 'A support measure. detail is required when kind is "other".'

    kind = fields.String(required=True, validate=validate.OneOf(MEASURE_KINDS))
    detail = fields.String(allow_none=True, validate=validate.Length(1, 200))
    amount_fen = fields.Integer(allow_none=True, validate=validate.Range(0, 10**10))
    started_on = fields.Date(required=True)

    @pre_load
    def strip(self, data, **kwargs):
        return _strip_strings(data)

    @validates_schema
    def named_when_other(self, data, **kwargs):
        if data.get("kind") == "other" and not data.get("detail"):
            raise ValidationError(Coded("Say what the measure is.", "required"), "detail")


class MeasureEndSchema(Schema):
    # Checked against the measure itself (measures.stop_measure).
    ended_on = fields.Date(
        required=True, metadata={"description": "not before the measure's started_on"}
    )


class HouseholdSummarySchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(dump_only=True)
    head_name = fields.String(dump_only=True)
    klass = fields.String(dump_only=True)
    village = fields.Nested(VillageSchema, dump_only=True)
    phone = fields.String(dump_only=True, allow_none=True)
    last_visit_at = fields.DateTime(dump_only=True, allow_none=True)
    version = fields.Integer(dump_only=True)


class HouseholdDetailSchema(HouseholdSummarySchema):
    address = fields.String(dump_only=True, allow_none=True)
    lat = fields.Float(dump_only=True, allow_none=True)
    lon = fields.Float(dump_only=True, allow_none=True)
    active = fields.Boolean(dump_only=True)
    members = fields.List(fields.Nested(MemberSchema), dump_only=True)
    cadres = fields.List(fields.Nested(CadreRefSchema), dump_only=True)
    crops = fields.List(
        fields.Nested(CropSchema),
        attribute="current_crops",
        dump_only=True,
        metadata={"description": "the plots as last recorded (not every visit's records)"},
    )
    crop_seasons = fields.List(fields.Nested(CropSeasonSchema), dump_only=True)
    measures = fields.List(
        fields.Nested(MeasureSchema),
        attribute="active_measures",
        dump_only=True,
        metadata={"description": "support measures in force"},
    )
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class HouseholdPageSchema(Schema):
    items = fields.List(fields.Nested(HouseholdSummarySchema), dump_only=True)
    next_cursor = fields.String(dump_only=True, allow_none=True)


class HouseholdQuerySchema(Schema):
    village_id = fields.Id()
    klass = fields.String(validate=validate.OneOf(KLASSES))
    q = fields.String(validate=validate.Length(1, 64))
    cursor = fields.String()
    limit = fields.Integer(validate=validate.Range(1, 200))


class HouseholdEditSchema(Schema):
    """Fields a supervisor may change on a household."""

    village_id = fields.Id()
    head_name = fields.String(validate=validate.Length(1, 64))
    klass = fields.String(validate=validate.OneOf(KLASSES))
    phone = fields.String(allow_none=True, validate=PHONE)
    address = fields.String(allow_none=True, validate=validate.Length(max=200))
    lat = fields.Float(allow_none=True, validate=validate.Range(-90, 90))
    lon = fields.Float(allow_none=True, validate=validate.Range(-180, 180))
    active = fields.Boolean()
    # Why: kept with the audit event and, for a class change, with the class history.
    reason = fields.String(load_only=True, validate=validate.Length(1, 200))

    @pre_load
    def strip(self, data, **kwargs):
        return _strip_strings(data)


class HouseholdCreateSchema(HouseholdEditSchema):
    class Meta:
        exclude = ("reason",)

    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9A-Za-z\-]{1,32}$"))
    village_id = fields.Id(required=True)
    head_name = fields.String(required=True, validate=validate.Length(1, 64))
    klass = fields.String(required=True, validate=validate.OneOf(KLASSES))
    members = fields.List(fields.Nested(MemberInSchema), load_default=list)


class AssignSchema(Schema):
    cadre_id = fields.Id(required=True)


class UnmaskSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(4, 200))


class IdNumberSchema(Schema):
    id_number = fields.String(dump_only=True)
