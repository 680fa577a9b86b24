from marshmallow import validate

from ..models import ROLES
from . import fields
from .base import Schema


class VillageRefSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    username = fields.String(dump_only=True)
    display_name = fields.String(dump_only=True)
    phone = fields.String(dump_only=True, allow_none=True)
    role = fields.String(dump_only=True, validate=validate.OneOf(ROLES))
    town_id = fields.Integer(dump_only=True, allow_none=True)
    villages = fields.List(fields.Nested(VillageRefSchema), dump_only=True)
    # True after a one-time password: every other call answers 403 password_change_required
    # until POST /api/password.
    must_change_password = fields.Boolean(dump_only=True)


class MeSchema(Schema):
    user = fields.Nested(UserSchema, dump_only=True)
    csrf_token = fields.String(dump_only=True)


class CadreRefSchema(Schema):
    id = fields.Integer(dump_only=True)
    display_name = fields.String(dump_only=True)
    phone = fields.String(dump_only=True, allow_none=True)
