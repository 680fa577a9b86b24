"""All models, importable from one place."""

from .audit import AuditEvent
from .coverage import (
    KlassChange,
    MonthSnapshot,
    NeedsAction,
    VisitFlag,
    VisitMonth,
    VisitMonthCount,
)
from .imports import ImportJob, ImportRowError
from .registry import (
    CROPS,
    KLASSES,
    MEASURE_KINDS,
    SEXES,
    Assignment,
    CropRecord,
    Household,
    Member,
    SupportMeasure,
    Town,
    Village,
)
from .selfreport import (
    REPORT_CATEGORIES,
    REPORT_OPEN_STATUSES,
    REPORT_STATUSES,
    TOP_URGENT_CATEGORIES,
    HouseholdLink,
    RateCounter,
    SelfReport,
    report_priority,
)
from .sync import ChangeCounter, DataConflict, DeviceStatus, SyncRecord
from .types import UTCDateTime, new_uuid, utcnow
from .users import ROLES, LoginFailure, User, UserSession, supervisor_village
from .visits import Photo, Visit

__all__ = [
    "CROPS",
    "KLASSES",
    "MEASURE_KINDS",
    "REPORT_CATEGORIES",
    "REPORT_OPEN_STATUSES",
    "REPORT_STATUSES",
    "ROLES",
    "SEXES",
    "TOP_URGENT_CATEGORIES",
    "Assignment",
    "AuditEvent",
    "ChangeCounter",
    "CropRecord",
    "DataConflict",
    "DeviceStatus",
    "Household",
    "HouseholdLink",
    "ImportJob",
    "ImportRowError",
    "KlassChange",
    "LoginFailure",
    "Member",
    "MonthSnapshot",
    "NeedsAction",
    "Photo",
    "RateCounter",
    "SelfReport",
    "SupportMeasure",
    "SyncRecord",
    "Town",
    "UTCDateTime",
    "User",
    "UserSession",
    "Village",
    "Visit",
    "VisitFlag",
    "VisitMonth",
    "VisitMonthCount",
    "new_uuid",
    "report_priority",
    "supervisor_village",
    "utcnow",
]
