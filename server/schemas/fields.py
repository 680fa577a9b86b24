"""The fields every schema uses: marshmallow's, with the integer and text fields replaced by
ones that refuse what the databases cannot store.

Schemas import `from . import fields` (or `from ..schemas import fields`), never marshmallow's
own module, so no schema can take an unbounded integer or a NUL by mistake.
"""

from marshmallow.fields import *  # noqa: F403
from marshmallow.fields import Integer as _Integer
from marshmallow.fields import String as _String

from ..params import ASCII_INTEGER, INT64_MAX, INT64_MIN, ROW_ID_MAX, text_problem


class Integer(_Integer):
    """A JSON integer, or ASCII digits, that fits a 64-bit column (or tighter bounds)."""

    default_error_messages = {"out_of_range": "Must be from {low} to {high}."}

    def __init__(self, *, low: int = INT64_MIN, high: int = INT64_MAX, **kwargs):
        self.low, self.high = low, high
        super().__init__(**kwargs)

    def _validated(self, value) -> int:
        if isinstance(value, str) and not ASCII_INTEGER.fullmatch(value):
            raise self.make_error("invalid")  # int() would take "١٢" or " 12 "
        number = super()._validated(value)
        if not self.low <= number <= self.high:
            raise self.make_error("out_of_range", low=self.low, high=self.high)
        return number


class Id(Integer):
    """A row id: a positive 32-bit integer, as the id columns are on PostgreSQL."""

    def __init__(self, **kwargs):
        super().__init__(low=1, high=ROW_ID_MAX, **kwargs)


class String(_String):
    """Text a database can store: no NUL, no lone surrogate."""

    default_error_messages = {"bad_text": "Contains characters that cannot be stored."}

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text_problem(text):
            raise self.make_error("bad_text")
        return text


class Mu(Decimal):  # noqa: F405 (marshmallow's Decimal, from the star import)
    """An area in mu, sent as a string of decimal digits ("0.50") so no float rounds it on
    the way (server/openapi.py documents such a decimal as the string it is)."""

    def __init__(self, **kwargs):
        super().__init__(as_string=True, **kwargs)
