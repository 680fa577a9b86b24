"""The result of one pushed record, as the phone reads it (docs/sync.md)."""


def rejected(uuid: str, code: int, error: str, message: str, fields=None) -> dict:
    """A 4xx for this record alone: the phone quarantines it and shows the message."""
    result = {"uuid": uuid, "status": "rejected", "code": code, "error": error}
    result["message"] = message
    if fields:
        result["fields"] = fields
        result["codes"] = field_codes(fields)
    return result


def uuid_taken(uuid: str) -> dict:
    return rejected(uuid, 409, "uuid_taken", "This record's UUID belongs to another record.")


# The phone explains each refused field by a stable code, never by the English sentence.
# Until the schemas name their codes themselves, they are read off the standard messages.
_CODE_OF_MESSAGE = (
    ("Missing data for required field", "required"),
    ("Field may not be null", "null"),
    ("Unknown field", "unknown_field"),
    ("Must be one of", "not_one_of"),
    ("Longer than maximum length", "too_long"),
    ("Shorter than minimum length", "too_short"),
    ("Must be greater than or equal to", "too_small"),
    ("Must be less than or equal to", "too_large"),
    ("Not a plausible date", "bad_date"),
)


def _code(message: str) -> str:
    if "greater than or equal to" in message and "less than or equal to" in message:
        return "out_of_range"
    return next((code for start, code in _CODE_OF_MESSAGE if message.startswith(start)), "invalid")


def field_codes(messages):
    """The same nesting as the messages, with a code in place of each sentence."""
    if isinstance(messages, dict):
        return {key: field_codes(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [field_codes(m) for m in messages]
    return _code(str(messages))
