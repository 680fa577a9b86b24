"""All models, importable from one place."""

from .audit import AuditEvent
from .registry import (
    CROPS,
    KLASSES,
    SEXES,
    Assignment,
    CropRecord,
    Household,
    Member,
    Town,
    Village,
)
from .sync import ChangeCounter, DataConflict, DeviceStatus, SyncRecord
from .types import UTCDateTime, new_uuid, utcnow
from .users import ROLES, LoginFailure, User, supervisor_village
from .visits import Photo, Visit

__all__ = [
    "CROPS",
    "KLASSES",
    "ROLES",
    "SEXES",
    "Assignment",
    "AuditEvent",
    "ChangeCounter",
    "CropRecord",
    "DataConflict",
    "DeviceStatus",
    "Household",
    "LoginFailure",
    "Member",
    "Photo",
    "SyncRecord",
    "Town",
    "UTCDateTime",
    "User",
    "Village",
    "Visit",
    "new_uuid",
    "supervisor_village",
    "utcnow",
]
