"""A pushed batch: each record validated, scoped and stored on its own."""

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import access
from ..coverage.stats import photos_missing_by_cadre
from ..errors import Coded, validation_fields
from ..extensions import db
from ..models import DeviceStatus, Household, User, Village, utcnow
from ..schemas.sync import KINDS, HouseholdEditDataSchema, VisitDataSchema
from ..selfreport import reports_answered
from .edits import EditMerge
from .results import rejected
from .visits import Incoming, VisitIngest

DATA_SCHEMAS = {"visit": VisitDataSchema, "household_edit": HouseholdEditDataSchema}


def _validate(record: dict, schemas: dict) -> dict:
    """The record's data, loaded; raises ValidationError for this record alone."""
    if record["kind"] not in KINDS:
        raise ValidationError(
            {"kind": [Coded(f"Must be one of: {', '.join(KINDS)}.", "not_one_of")]}
        )
    if not isinstance(record["data"], dict):
        raise ValidationError({"data": [Coded("Not an object.", "invalid")]})
    return schemas[record["kind"]].load(record["data"])


def _lock_households(user: User, ids: set[int], with_members: bool) -> dict[int, Household]:
    """The batch's households that are in the user's scope, locked in id order (PostgreSQL;
    SQLite's write lock is already held), so concurrent pushes queue instead of deadlocking."""
    if not ids:
        return {}
    query = (
        access.households(user)
        .where(Household.id.in_(ids))
        .order_by(Household.id)
        .with_for_update(key_share=True, of=Household)
        .options(selectinload(Household.village).selectinload(Village.town))
    )
    if with_members:
        query = query.options(selectinload(Household.members))
    return {h.id: h for h in db.session.scalars(query)}


def _load_all(records: list[dict], results: list) -> list[tuple[int, str, str, dict]]:
    """(position, uuid, kind, loaded data) of each valid record; the others get a 422."""
    schemas = {kind: schema() for kind, schema in DATA_SCHEMAS.items()}  # one per batch: cheaper
    work = []
    for index, record in enumerate(records):
        uuid = str(record["uuid"])
        try:
            work.append((index, uuid, record["kind"], _validate(record, schemas)))
        except ValidationError as exc:
            results[index] = rejected(
                uuid, 422, "validation_failed", "Some fields are not valid.", validation_fields(exc)
            )
    return work


def _reports_linkable(user: User, data: dict, household) -> bool:
    """A visit answering self-reports must name this household's, in scope."""
    return reports_answered(user, household.id, data["report_ids"]) is not None


def process_records(user: User, records: list[dict]) -> list[dict]:
    results: list[dict | None] = [None] * len(records)
    work = _load_all(records, results)
    households = _lock_households(
        user,
        {data["household_id"] for *_, data in work},
        with_members=any(kind == "household_edit" for _, _, kind, _ in work),
    )
    edits = EditMerge(user, [u for _, u, k, _ in work if k == "household_edit"])
    incoming = []
    for index, uuid, kind, data in work:
        household = households.get(data["household_id"])
        if household is None:
            message = Coded("No such household in your scope.", "not_found")
            fields = {"household_id": [message]}
            results[index] = rejected(uuid, 404, "not_found", message, fields)
        elif kind == "visit" and not _reports_linkable(user, data, household):
            message = Coded("No such report for this household in your scope.", "not_found")
            fields = {"report_ids": [message]}
            results[index] = rejected(uuid, 422, "validation_failed", message, fields)
        elif kind == "visit":
            incoming.append(Incoming(index, uuid, data, household))
        else:
            results[index] = edits.merge(uuid, data, household)
    for index, result in VisitIngest(user, utcnow(), incoming).store(incoming).items():
        results[index] = result
    return results


ACKNOWLEDGED = ("created", "duplicate", "merged")  # the phone drops these from its queue


def record_device(user: User, device: dict | None, results: list[dict]) -> None:
    """Keep what waits on the phone once this push is done, for the office's figures.

    The phone counts its queue before sending, so the records this push acknowledged are
    taken off; of its unsent photos, those of visits the server now holds are counted from
    the visits instead (server.coverage.stats), so only the photos of records still queued
    stay with the device."""
    if not device:
        return
    query = select(DeviceStatus).where(
        DeviceStatus.user_id == user.id, DeviceStatus.device_id == device["id"]
    )
    status = db.session.scalar(query)
    if status is None:
        try:
            with db.session.begin_nested():
                status = DeviceStatus(user_id=user.id, device_id=device["id"])
                db.session.add(status)
        except IntegrityError:  # the same phone's other push got there first
            status = db.session.scalar(query)
    acknowledged = sum(1 for r in results if r["status"] in ACKNOWLEDGED)
    on_server = photos_missing_by_cadre([user.id]).get(user.id, 0)
    status.app_version = device.get("app_version")
    status.pending_records = max(device["pending_records"] - acknowledged, 0)
    status.pending_photos = max(device["pending_photos"] - on_server, 0)
    status.storage_free_bytes = device.get("storage_free_bytes")
    status.last_sync_at = utcnow()
