"""Resident ID card numbers (GB 11643): validation and masking."""

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def check_digit(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalise(raw: str) -> str:
    return raw.strip().upper().replace(" ", "")


def problem(number: str) -> str | None:
    """Why `number` is not a valid ID number, or None when it is."""
    if len(number) != 18:
        return "must be 18 characters"
    if not _SHAPE.match(number):
        return "must be 17 digits followed by a digit or X"
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "contains an impossible birth date"
    if check_digit(number[:17]) != number[17]:
        return "check digit does not match"
    return None


def mask(number: str | None) -> str | None:
    """Keep the first 6 and last 4 characters: 370302********1234."""
    if not number:
        return number
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def birth_year(number: str) -> int:
    return int(number[6:10])


def sex(number: str) -> str:
    return "M" if int(number[16]) % 2 else "F"
