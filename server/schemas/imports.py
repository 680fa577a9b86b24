"""What the registry import API answers."""

from . import fields
from .base import Schema


class RowErrorSchema(Schema):
    row = fields.Integer(dump_only=True, allow_none=True, metadata={"description": "Sheet row"})
    field = fields.String(dump_only=True, allow_none=True, metadata={"example": "id_number"})
    column = fields.String(dump_only=True, allow_none=True, metadata={"example": "身份证号"})
    message = fields.String(dump_only=True, metadata={"example": "校验位不正确"})
    household_code = fields.String(dump_only=True, allow_none=True)


class ImportReportSchema(Schema):
    rows = fields.Integer(dump_only=True)
    households_created = fields.Integer(dump_only=True)
    households_updated = fields.Integer(dump_only=True)
    households_unchanged = fields.Integer(dump_only=True)
    households_rejected = fields.Integer(dump_only=True)
    members_created = fields.Integer(dump_only=True)
    members_updated = fields.Integer(dump_only=True)
    members_removed = fields.Integer(dump_only=True)
    assignments_started = fields.Integer(dump_only=True)
    assignments_ended = fields.Integer(dump_only=True)
    cadres_created = fields.Integer(dump_only=True)
    villages_created = fields.Integer(dump_only=True)
    towns_created = fields.Integer(dump_only=True)
    dry_run = fields.Boolean(dump_only=True)
    errors = fields.List(fields.Nested(RowErrorSchema), dump_only=True)
    errors_omitted = fields.Integer(dump_only=True)
    unknown_columns = fields.List(
        fields.String(),
        dump_only=True,
        metadata={"description": "Headers the importer does not know: those columns are ignored"},
    )


class ImportFormSchema(Schema):
    """The multipart form fields besides the file itself."""

    town = fields.String(metadata={"description": "Town to import into (admins)"})
    dry_run = fields.Boolean(load_default=False)
