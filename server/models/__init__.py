"""All models, importable from one place."""

from .audit import AuditEvent
from .coverage import KlassChange, NeedsAction, VisitFlag, VisitMonth, VisitMonthCount
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
from .sync import DataConflict, DeviceStatus
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
    "CropRecord",
    "DataConflict",
    "DeviceStatus",
    "Household",
    "KlassChange",
    "LoginFailure",
    "Member",
    "NeedsAction",
    "Photo",
    "Town",
    "UTCDateTime",
    "User",
    "Village",
    "Visit",
    "VisitFlag",
    "VisitMonth",
    "VisitMonthCount",
    "new_uuid",
    "supervisor_village",
    "utcnow",
]
