"""The result of one pushed record, as the phone reads it (docs/sync.md)."""

from ..errors import field_codes, string_keys


def rejected(uuid: str, code: int, error: str, message: str, fields=None) -> dict:
    """A 4xx for this record alone: the phone quarantines it and shows the message."""
    result = {"uuid": uuid, "status": "rejected", "code": code, "error": error}
    result["message"] = message
    if fields:
        result["fields"] = string_keys(fields)
        result["codes"] = field_codes(result["fields"])
    return result


def uuid_taken(uuid: str) -> dict:
    return rejected(uuid, 409, "uuid_taken", "This record's UUID belongs to another record.")
