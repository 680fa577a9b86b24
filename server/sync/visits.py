"""Visits pushed from phones: stored once per UUID, with their crops, on both databases."""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import settings
from ..extensions import db
from ..models import CropRecord, Household, Photo, User, Visit
from .results import rejected, uuid_taken

CROP_FIELDS = (
    "crop",
    "crop_name",
    "area_mu",
    "plants",
    "yield_kg",
    "expected_income_fen",
    "season_year",
)


def photos_missing(visit: Visit) -> list[str]:
    """The visit's photos the server has not received yet, in the phone's order."""
    if not visit.photo_uuids:
        return []
    arrived = set(db.session.scalars(select(Photo.uuid).where(Photo.visit_id == visit.id)))
    return [u for u in visit.photo_uuids if u not in arrived]


def _device_time_suspect(visited_at: datetime, now: datetime, household: Household) -> bool:
    """A device clock ahead of the server beyond the town's tolerance is not trusted."""
    tolerance = settings.for_town(household.village.town)["device_clock_tolerance_s"]
    return visited_at > now + timedelta(seconds=tolerance)


class VisitIngest:
    """The visits of one push. Existing UUIDs and crop UUIDs are read once for the batch;
    a UUID that arrives at the same moment from elsewhere is caught by the unique constraint
    inside the record's savepoint, and answered as a duplicate."""

    def __init__(self, user: User, now: datetime, items: list[tuple[str, dict]]):
        self.user, self.now = user, now
        uuids = [uuid for uuid, _ in items]
        crop_uuids = [str(c["uuid"]) for _, data in items for c in data["crops"]]
        self.stored = {
            v.uuid: v for v in db.session.scalars(select(Visit).where(Visit.uuid.in_(uuids)))
        }
        self.taken_crops = set(
            db.session.scalars(select(CropRecord.uuid).where(CropRecord.uuid.in_(crop_uuids)))
        )
        self.latest: dict[Household, datetime] = {}

    def ingest(self, uuid: str, data: dict, household: Household) -> dict:
        if uuid in self.stored:
            return self._answer_stored(uuid, self.stored[uuid])
        taken = [i for i, c in enumerate(data["crops"]) if str(c["uuid"]) in self.taken_crops]
        if taken and (found := self._find(uuid)):
            return self._answer_stored(uuid, found)
        if taken:
            fields = {"crops": {i: {"uuid": ["Already used by another visit."]} for i in taken}}
            return rejected(uuid, 409, "uuid_taken", "A crop UUID is used twice.", fields)
        visit = self._build(uuid, data, household)
        try:
            with db.session.begin_nested():
                db.session.add(visit)
        except IntegrityError:
            found = self._find(uuid)
            return self._answer_stored(uuid, found) if found else uuid_taken(uuid)
        self.stored[uuid] = visit
        self.taken_crops.update(c.uuid for c in visit.crops)
        when = self.now if visit.device_time_suspect else visit.visited_at
        self.latest[household] = max(self.latest.get(household, when), when)
        missing = list(visit.photo_uuids)
        return {"uuid": uuid, "status": "created", "id": visit.id, "photos_missing": missing}

    @staticmethod
    def _find(uuid: str) -> Visit | None:
        return db.session.scalar(select(Visit).where(Visit.uuid == uuid))

    def _answer_stored(self, uuid: str, visit: Visit) -> dict:
        if visit.cadre_id != self.user.id:
            return uuid_taken(uuid)
        missing = photos_missing(visit)
        return {"uuid": uuid, "status": "duplicate", "id": visit.id, "photos_missing": missing}

    def _build(self, uuid: str, data: dict, household: Household) -> Visit:
        suspect = _device_time_suspect(data["visited_at"], self.now, household)
        location = data["location"] or {}
        photo_uuids = [str(p) for p in data["photo_uuids"]]
        return Visit(
            uuid=uuid,
            household_id=household.id,
            cadre_id=self.user.id,
            visited_at=data["visited_at"],
            received_at=self.now,
            device_time_suspect=suspect,
            lat=location.get("lat"),
            lon=location.get("lon"),
            accuracy_m=location.get("accuracy_m"),
            situation=data["situation"],
            sudden_event=data.get("sudden_event"),
            notes=data.get("notes"),
            needs=data.get("needs"),
            follow_up=data.get("follow_up"),
            photo_uuids=photo_uuids,
            photos_expected=len(photo_uuids),
            crops=[
                CropRecord(
                    uuid=str(crop["uuid"]),
                    household_id=household.id,
                    recorded_at=self.now if suspect else data["visited_at"],
                    **{name: crop.get(name) for name in CROP_FIELDS},
                )
                for crop in data["crops"]
            ],
        )

    def update_last_visits(self) -> None:
        """household.last_visit_at only moves forward, in the same transaction as the visits."""
        for household, when in self.latest.items():
            if household.last_visit_at is None or when > household.last_visit_at:
                household.last_visit_at = when
