"""What goes in and out of the sync API: push, pull and photo upload (docs/sync.md)."""

from datetime import UTC, datetime

from flask import url_for
from marshmallow import (
    EXCLUDE,
    ValidationError,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from ..codes import PHOTOS_PER_VISIT, SUDDEN_EVENTS, TRENDS
from ..errors import Coded
from ..models import CROPS, MEASURE_KINDS
from . import fields
from .base import Schema
from .households import PHONE, CropSchema, HouseholdDetailSchema
from .users import CadreRefSchema

MAX_RECORDS = 100
# Bounds for a phone's clock; a time ahead of the server is flagged, not refused (docs/sync.md).
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
KINDS = ("visit", "household_edit")
STATUSES = ("created", "duplicate", "merged", "rejected")
TEXT = validate.Length(max=4000)


class DeviceSchema(Schema):
    """What the phone says about itself at each push (kept as DeviceStatus)."""

    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True, validate=validate.Length(1, 64))
    app_version = fields.String(allow_none=True, validate=validate.Length(max=64))
    pending_records = fields.Integer(load_default=0, validate=validate.Range(0, 10**6))
    pending_photos = fields.Integer(load_default=0, validate=validate.Range(0, 10**6))
    storage_free_bytes = fields.Integer(allow_none=True, validate=validate.Range(0, 2**62))


class RecordSchema(Schema):
    """One record of a push. Only the UUID is checked with the envelope; a wrong kind or data
    rejects that record alone."""

    class Meta:
        unknown = EXCLUDE

    uuid = fields.UUID(required=True)
    kind = fields.Raw(required=True, metadata={"type": "string", "enum": list(KINDS)})
    data = fields.Raw(
        required=True,
        metadata={"type": "object", "description": "VisitDataSchema or HouseholdEditDataSchema"},
    )


class PushSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    # Checked apart (DeviceSchema): what a phone says about itself never blocks its records.
    device = fields.Raw(allow_none=True, load_default=None)
    records = fields.List(
        fields.Nested(RecordSchema),
        required=True,
        metadata={"maxItems": MAX_RECORDS},
    )


class LocationSchema(Schema):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    accuracy_m = fields.Float(allow_none=True, validate=validate.Range(min=0))


class SituationSchema(Schema):
    """Each aspect changed since the last visit: same, better or worse (null: not asked)."""

    health = fields.String(allow_none=True, validate=validate.OneOf(TRENDS))
    income = fields.String(allow_none=True, validate=validate.OneOf(TRENDS))
    housing = fields.String(allow_none=True, validate=validate.OneOf(TRENDS))
    schooling = fields.String(allow_none=True, validate=validate.OneOf(TRENDS))


class CropInSchema(Schema):
    class Meta:
        description = 'A plot as recorded at a visit. crop_name is required when crop is "other".'

    uuid = fields.UUID(required=True)
    crop = fields.String(required=True, validate=validate.OneOf(CROPS))
    crop_name = fields.String(allow_none=True, validate=validate.Length(1, 32))
    # The phone sends the text typed ("0.5"); as_string says so in the document (a JSON
    # number is read too).
    area_mu = fields.Decimal(
        required=True, places=2, as_string=True, validate=validate.Range(0, 100000)
    )
    plants = fields.Integer(allow_none=True, validate=validate.Range(0, 10**7))
    yield_kg = fields.Integer(allow_none=True, validate=validate.Range(0, 10**8))
    expected_income_fen = fields.Integer(allow_none=True, validate=validate.Range(0, 10**12))
    season_year = fields.Integer(required=True, validate=validate.Range(2000, 2100))

    @validates_schema
    def named_when_other(self, data, **kwargs):
        if data.get("crop") == "other" and not data.get("crop_name"):
            raise ValidationError(Coded("Name the crop.", "required"), "crop_name")


def _unique(items, what: str):
    if len(set(items)) != len(items):
        raise ValidationError(Coded(f"The same {what} appears twice.", "duplicate"))


class VisitDataSchema(Schema):
    class Meta:
        description = (
            "A visit. Each list holds an item at most once (crops by uuid). report_id, "
            "from older phones, is added to report_ids."
        )

    household_id = fields.Id(required=True, strict=True)
    visited_at = fields.AwareDateTime(
        required=True,
        validate=validate.Range(EARLIEST, LATEST, error="Not a plausible date."),
        metadata={"description": "device clock, with its offset"},
    )
    location = fields.Nested(LocationSchema, allow_none=True, load_default=None)
    situation = fields.Nested(SituationSchema, load_default=dict)
    sudden_event = fields.String(allow_none=True, validate=validate.OneOf(SUDDEN_EVENTS))
    notes = fields.String(allow_none=True, validate=TEXT)
    needs = fields.String(allow_none=True, validate=TEXT)
    follow_up = fields.String(allow_none=True, validate=TEXT)
    crops = fields.List(
        fields.Nested(CropInSchema),
        load_default=list,
        validate=[validate.Length(max=20), lambda c: _unique([x["uuid"] for x in c], "crop")],
    )
    photo_uuids = fields.List(
        fields.UUID(),
        load_default=list,
        validate=[validate.Length(max=PHOTOS_PER_VISIT), lambda p: _unique(p, "photo")],
        metadata={"uniqueItems": True},
    )
    # The household's support measures the cadre saw carried out, by kind.
    measures = fields.List(
        fields.String(validate=validate.OneOf(MEASURE_KINDS)),
        load_default=list,
        validate=[validate.Length(max=len(MEASURE_KINDS)), lambda m: _unique(m, "measure")],
        metadata={"uniqueItems": True},
    )
    # The household's self-reports (自主申报) this visit answers: storing it closes them.
    report_ids = fields.List(
        fields.Id(strict=True),
        load_default=list,
        validate=[validate.Length(max=20), lambda r: _unique(r, "report")],
        metadata={"uniqueItems": True},
    )
    # What phones before report_ids sent: one report, or null.
    report_id = fields.Id(allow_none=True, load_default=None)

    @post_load
    def one_list_of_reports(self, data, **kwargs):
        single = data.pop("report_id")
        if single is not None and single not in data["report_ids"]:
            data["report_ids"] = [*data["report_ids"], single]
        return data


class MemberEditSchema(Schema):
    health = fields.String(allow_none=True, validate=validate.Length(max=32))
    labour_capacity = fields.String(allow_none=True, validate=validate.Length(max=32))


class EditChangesSchema(Schema):
    """The only fields a cadre may change offline (crops travel with visits)."""

    phone = fields.String(allow_none=True, validate=PHONE)
    members = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[0-9]{1,12}$", error="Not a member id.")),
        values=fields.Nested(MemberEditSchema),
        load_default=dict,
    )

    @pre_load
    def strip(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("phone"), str):
            data = {**data, "phone": data["phone"].strip() or None}
        return data


class HouseholdEditDataSchema(Schema):
    household_id = fields.Id(required=True, strict=True)
    base_version = fields.Id(required=True, strict=True)
    changes = fields.Nested(EditChangesSchema, required=True)


class VisitRecordSchema(Schema):
    """A visit record as pushed (the OpenAPI document's view of PushSchema.records)."""

    uuid = fields.UUID(required=True)
    kind = fields.String(required=True, validate=validate.Equal("visit"))
    data = fields.Nested(VisitDataSchema, required=True)


class HouseholdEditRecordSchema(Schema):
    """A household edit record as pushed (the OpenAPI document's view of PushSchema.records)."""

    uuid = fields.UUID(required=True)
    kind = fields.String(required=True, validate=validate.Equal("household_edit"))
    data = fields.Nested(HouseholdEditDataSchema, required=True)


class ConflictSchema(Schema):
    field = fields.String(dump_only=True)
    mine = fields.Raw(dump_only=True)
    theirs = fields.Raw(dump_only=True)


class PushResultSchema(Schema):
    uuid = fields.String(dump_only=True)
    status = fields.String(dump_only=True, validate=validate.OneOf(STATUSES))
    id = fields.Integer(dump_only=True)
    photos_missing = fields.List(fields.String(), dump_only=True)
    version = fields.Integer(dump_only=True, metadata={"description": "household edits"})
    applied = fields.List(fields.String(), dump_only=True)
    conflicts = fields.List(fields.Nested(ConflictSchema), dump_only=True)
    code = fields.Integer(dump_only=True, metadata={"description": "rejected: the 4xx status"})
    error = fields.String(dump_only=True)
    message = fields.String(dump_only=True)
    fields_ = fields.Dict(data_key="fields", attribute="fields", dump_only=True)
    codes = fields.Dict(
        dump_only=True, metadata={"description": "rejected: errors.FIELD_CODES, like fields"}
    )


class PushResponseSchema(Schema):
    results = fields.List(fields.Nested(PushResultSchema), dump_only=True)
    server_time = fields.AwareDateTime(dump_only=True)


def photo_ref(uuid: str) -> dict:
    return {
        "uuid": uuid,
        "url": url_for("photos.photo", photo_uuid=uuid),
        "thumb_url": url_for("photos.thumbnail", photo_uuid=uuid),
    }


PHOTO_REF_DOC = {
    "type": "object",
    "properties": {name: {"type": "string"} for name in ("uuid", "url", "thumb_url")},
}


class PhotoRefSchema(Schema):
    uuid = fields.String(dump_only=True)
    url = fields.String(dump_only=True)
    thumb_url = fields.String(dump_only=True)


class SyncCropSchema(CropSchema):
    uuid = fields.String(dump_only=True, allow_none=True)


class SyncVisitSchema(Schema):
    id = fields.Integer(dump_only=True)
    uuid = fields.String(dump_only=True)
    household_id = fields.Integer(dump_only=True)
    cadre = fields.Nested(CadreRefSchema, dump_only=True)
    visited_at = fields.AwareDateTime(dump_only=True)
    received_at = fields.AwareDateTime(dump_only=True)
    device_time_suspect = fields.Boolean(dump_only=True)
    lat = fields.Float(dump_only=True, allow_none=True)
    lon = fields.Float(dump_only=True, allow_none=True)
    accuracy_m = fields.Float(dump_only=True, allow_none=True)
    situation = fields.Dict(dump_only=True)
    sudden_event = fields.String(dump_only=True, allow_none=True)
    notes = fields.String(dump_only=True, allow_none=True)
    needs = fields.String(dump_only=True, allow_none=True)
    follow_up = fields.String(dump_only=True, allow_none=True)
    crops = fields.List(fields.Nested(SyncCropSchema), dump_only=True)
    measures = fields.List(fields.String(), dump_only=True)
    photos = fields.Method(
        "photo_refs",
        dump_only=True,
        metadata={"type": "array", "items": PHOTO_REF_DOC},
    )
    photos_missing = fields.Method(
        "missing_photos", dump_only=True, metadata={"type": "array", "items": {"type": "string"}}
    )

    def photo_refs(self, visit) -> list[dict]:
        arrived = {p.uuid: p for p in visit.photos}
        order = [u for u in visit.photo_uuids if u in arrived]
        order += sorted(set(arrived) - set(order))
        return [PhotoRefSchema().dump(photo_ref(u)) for u in order]

    def missing_photos(self, visit) -> list[str]:
        arrived = {p.uuid for p in visit.photos}
        return [u for u in visit.photo_uuids if u not in arrived]


class SyncHouseholdSchema(HouseholdDetailSchema):
    next_due_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    overdue = fields.Boolean(dump_only=True)
    visits = fields.List(fields.Nested(SyncVisitSchema), dump_only=True)
    reports = fields.List(fields.Dict(), dump_only=True)


class PullQuerySchema(Schema):
    cursor = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 200))


class PullResponseSchema(Schema):
    households = fields.List(fields.Nested(SyncHouseholdSchema), dump_only=True)
    removed = fields.List(fields.Integer(), dump_only=True)
    cursor = fields.String(dump_only=True)
    more = fields.Boolean(dump_only=True)
    settings = fields.Dict(dump_only=True)
    codes = fields.Dict(
        dump_only=True,
        metadata={"description": "the code lists the phone shows and filters by"},
    )


class PhotoUploadSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    visit_uuid = fields.UUID(required=True)
    sha256 = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9a-f]{64}$", error="Not a SHA-256 hex digest."),
    )
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, load_only=True)

    @pre_load
    def lower_digest(self, data, **kwargs):
        data = dict(data)
        if isinstance(data.get("sha256"), str):
            data["sha256"] = data["sha256"].strip().lower()
        return data


class PhotoResultSchema(Schema):
    uuid = fields.String(dump_only=True)
    id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True, validate=validate.OneOf(("created", "duplicate")))
    url = fields.String(dump_only=True)
    thumb_url = fields.String(dump_only=True)
