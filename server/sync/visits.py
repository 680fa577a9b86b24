"""Visits pushed from phones: stored once per UUID, with their crops, on both databases.

UUIDs already stored are answered from one read for the whole batch. The batch's new visits
are then inserted together (one multi-row INSERT for visits, one for crops) inside a
savepoint. If the unique key refuses any of them (a copy of a record arrived at the same
moment through another request, or a crop UUID is used twice), that savepoint is rolled back
and the batch is stored record by record, each in its own savepoint: a UUID refused there is
read back and answered as a duplicate, and the other records still land.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from .. import changes, settings
from ..coverage import StoredVisit, flag_visits, record_visits
from ..errors import Coded
from ..extensions import db
from ..models import CropRecord, Household, Photo, User, Visit
from ..selfreport import link_visit_to_report
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


@dataclass
class Incoming:
    index: int  # position in the push, where its result goes
    uuid: str
    data: dict
    household: Household


class VisitIngest:
    """The visits of one push."""

    def __init__(self, user: User, now: datetime, items: list[Incoming]):
        self.user, self.now = user, now
        uuids = [item.uuid for item in items]
        crop_uuids = [str(c["uuid"]) for item in items for c in item.data["crops"]]
        self.stored = {
            v.uuid: v for v in db.session.scalars(select(Visit).where(Visit.uuid.in_(uuids)))
        }
        self.taken_crops = set(
            db.session.scalars(select(CropRecord.uuid).where(CropRecord.uuid.in_(crop_uuids)))
        )
        self.tolerances: dict[int, timedelta] = {}

    def store(self, items: list[Incoming]) -> dict[int, dict]:
        """The result of each visit record, by its position in the push."""
        answers: dict[int, dict] = {}
        new: dict[str, Incoming] = {}
        copies: list[Incoming] = []  # the same record twice in one push
        for item in items:
            known = self._known(item)
            if known is not None:
                answers[item.index] = known
            elif item.uuid in new:
                copies.append(item)
            else:
                new[item.uuid] = item
        fresh = list(new.values())
        by_uuid = self._insert_together(fresh)
        if by_uuid is None:
            by_uuid = {item.uuid: self._insert_alone(item) for item in fresh}
        for item in fresh:
            answers[item.index] = by_uuid[item.uuid]
        for item in copies:
            first = by_uuid[item.uuid]
            answers[item.index] = (
                first if first["status"] == "rejected" else first | {"status": "duplicate"}
            )
        self._keep_coverage(fresh, by_uuid)
        return answers

    def _known(self, item: Incoming) -> dict | None:
        """The answer for a visit the server already has (or cannot take), else None."""
        if item.uuid in self.stored:
            return self._answer_stored(item.uuid, self.stored[item.uuid])
        crops = item.data["crops"]
        taken = [i for i, c in enumerate(crops) if str(c["uuid"]) in self.taken_crops]
        if not taken:
            return None
        found = self._find(item.uuid)
        if found is not None:
            return self._answer_stored(item.uuid, found)
        used = Coded("Already used by another visit.", "duplicate")
        fields = {"crops": {i: {"uuid": [used]} for i in taken}}
        return rejected(item.uuid, 409, "uuid_taken", "A crop UUID is used twice.", fields)

    @staticmethod
    def _find(uuid: str) -> Visit | None:
        return db.session.scalar(select(Visit).where(Visit.uuid == uuid))

    def _answer_stored(self, uuid: str, visit: Visit) -> dict:
        if visit.cadre_id != self.user.id:
            return uuid_taken(uuid)
        missing = photos_missing(visit)
        return {"uuid": uuid, "status": "duplicate", "id": visit.id, "photos_missing": missing}

    @staticmethod
    def _created(uuid: str, visit_id: int, photo_uuids: list[str]) -> dict:
        return {"uuid": uuid, "status": "created", "id": visit_id, "photos_missing": photo_uuids}

    def _insert_together(self, items: list[Incoming]) -> dict[str, dict] | None:
        """Two multi-row INSERTs in one savepoint; None when the unique key refused one."""
        if not items:
            return {}
        rows = [self._visit_row(item) for item in items]
        statement = insert(Visit).returning(Visit.uuid, Visit.id)  # mapped by uuid: any order
        try:
            with db.session.begin_nested():
                ids = dict(db.session.execute(statement, rows).all())
                crops = [
                    self._crop_row(item, crop) | {"visit_id": ids[item.uuid]}
                    for item in items
                    for crop in item.data["crops"]
                ]
                if crops:
                    db.session.execute(insert(CropRecord), crops)
        except IntegrityError:
            return None
        # Bulk INSERTs pass the unit of work by, so tell the change sequence here.
        changes.mark(db.session, {item.household.id for item in items})
        return {
            row["uuid"]: self._created(row["uuid"], ids[row["uuid"]], row["photo_uuids"])
            for row in rows
        }

    def _insert_alone(self, item: Incoming) -> dict:
        """One visit in its own savepoint; a refused UUID is read back and answered."""
        visit = Visit(
            **self._visit_row(item),
            crops=[CropRecord(**self._crop_row(item, crop)) for crop in item.data["crops"]],
        )
        try:
            with db.session.begin_nested():
                db.session.add(visit)
        except IntegrityError:
            found = self._find(item.uuid)
            return self._answer_stored(item.uuid, found) if found else uuid_taken(item.uuid)
        return self._created(item.uuid, visit.id, list(visit.photo_uuids))

    def _device_time_suspect(self, visited_at: datetime, household: Household) -> bool:
        """A device clock ahead of the server beyond the town's tolerance is not trusted."""
        town = household.village.town
        if town.id not in self.tolerances:
            seconds = settings.for_town(town)["device_clock_tolerance_s"]
            self.tolerances[town.id] = timedelta(seconds=seconds)
        return visited_at > self.now + self.tolerances[town.id]

    def _counted_time(self, item: Incoming) -> datetime:
        """When the visit counts as made: the phone's time, unless the phone's clock is ahead."""
        visited_at = item.data["visited_at"]
        return self.now if self._device_time_suspect(visited_at, item.household) else visited_at

    def _visit_row(self, item: Incoming) -> dict:
        data = item.data
        location = data["location"] or {}
        photo_uuids = [str(p) for p in data["photo_uuids"]]
        return {
            "uuid": item.uuid,
            "household_id": item.household.id,
            "cadre_id": self.user.id,
            "visited_at": data["visited_at"],
            "received_at": self.now,
            "device_time_suspect": self._device_time_suspect(data["visited_at"], item.household),
            "lat": location.get("lat"),
            "lon": location.get("lon"),
            "accuracy_m": location.get("accuracy_m"),
            "situation": data["situation"],
            "sudden_event": data.get("sudden_event"),
            "notes": data.get("notes"),
            "needs": data.get("needs"),
            "follow_up": data.get("follow_up"),
            "photo_uuids": photo_uuids,
            "photos_expected": len(photo_uuids),
            "measures": data["measures"],
        }

    def _crop_row(self, item: Incoming, crop: dict) -> dict:
        return {
            "uuid": str(crop["uuid"]),
            "household_id": item.household.id,
            "recorded_at": self._counted_time(item),
            **{name: crop.get(name) for name in CROP_FIELDS},
        }

    def _keep_coverage(self, items: list[Incoming], answers: dict[str, dict]) -> None:
        """For the new visits, in the same transaction: the households' last visits and
        monthly counts, flags for a supervisor, needs-action items, and the self-reports
        they answer. A few statements for the whole batch, from the rows just inserted."""
        created = [item for item in items if answers[item.uuid]["status"] == "created"]
        stored = sorted(
            (self._stored(item, answers[item.uuid]["id"]) for item in created),
            key=lambda visit: (visit.visited_at, visit.id),
        )
        record_visits(stored)
        flag_visits(stored)
        for item in created:
            if item.data["report_ids"]:
                visit = db.session.get(Visit, answers[item.uuid]["id"])
                for report_id in item.data["report_ids"]:
                    link_visit_to_report(visit, report_id, self.user)

    def _stored(self, item: Incoming, visit_id: int) -> StoredVisit:
        data, location = item.data, item.data["location"] or {}
        return StoredVisit(
            id=visit_id,
            household=item.household,
            cadre_id=self.user.id,
            visited_at=data["visited_at"],
            received_at=self.now,
            lat=location.get("lat"),
            lon=location.get("lon"),
            accuracy_m=location.get("accuracy_m"),
            device_time_suspect=self._device_time_suspect(data["visited_at"], item.household),
            situation=data["situation"],
            sudden_event=data.get("sudden_event"),
        )
