"""The base of every schema: each error sentence it raises carries a stable code
(errors.FIELD_CODES), so a 422 answers `codes` beside `fields`.

Field errors are coded by their key in the field's error_messages; validators by their kind
and the value they refused; sentences a schema raises itself are "invalid" unless written
as errors.Coded.
"""

import marshmallow
from marshmallow import ValidationError, validate

from ..errors import Coded
from . import fields

# A field's error key -> its code; any other key is "invalid".
KEY_CODES = {
    "required": "required",
    "null": "null",
    "special": "not_finite",
    "too_large": "too_large",
    "out_of_range": "out_of_range",
    "bad_text": "bad_text",
    "invalid_awareness": "bad_date",
}


class Schema(marshmallow.Schema):
    error_messages = {
        "unknown": Coded("Unknown field.", "unknown_field"),
        "type": Coded("Invalid input type.", "invalid"),
    }

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        _code_errors(field_obj)


def _code_errors(field: fields.Field) -> None:
    field.error_messages = {
        key: Coded(message, KEY_CODES.get(key, "invalid")) if isinstance(message, str) else message
        for key, message in field.error_messages.items()
    }
    field.validators = [_coded(v) for v in field.validators]
    for inner in _inner_fields(field):
        _code_errors(inner)


def _inner_fields(field: fields.Field) -> list:
    if isinstance(field, fields.List):
        return [field.inner]
    if isinstance(field, fields.Tuple):
        return list(field.tuple_fields)
    if isinstance(field, fields.Mapping):
        return [f for f in (field.key_field, field.value_field) if f is not None]
    return []


def _coded(validator):
    return validator if getattr(validator, "coded", False) else CodedValidator(validator)


class CodedValidator:
    """A validator whose refusal carries its code. It reads like the validator it wraps, so
    its choices, bounds and pattern still reach the OpenAPI document (apispec looks for
    `choices`, `min`, `max`, `regex`...)."""

    coded = True

    def __init__(self, validator):
        self.validator = validator

    def __getattr__(self, name: str):
        return getattr(self.validator, name)

    def __call__(self, value):
        try:
            return self.validator(value)
        except ValidationError as error:
            code = _validator_code(self.validator, value)
            raise ValidationError(_with_code(error.messages, code)) from error


def _with_code(messages, code: str):
    if isinstance(messages, list):
        return [_with_code(m, code) for m in messages]
    if isinstance(messages, str) and not isinstance(messages, Coded):
        return Coded(messages, code)
    return messages


def _validator_code(validator, value) -> str:
    if isinstance(validator, validate.Length):
        low = validator.equal if validator.equal is not None else validator.min
        return "too_short" if low is not None and len(value) < low else "too_long"
    if isinstance(validator, validate.Range):
        low = validator.min
        below = low is not None and (value < low or (value == low and not validator.min_inclusive))
        return "too_small" if below else "too_large"
    if isinstance(validator, validate.OneOf | validate.ContainsOnly | validate.Equal):
        return "not_one_of"
    return "invalid"
