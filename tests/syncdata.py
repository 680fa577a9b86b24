"""Records as the phone sends them, for the sync and photo tests."""

import uuid as uuidlib
from datetime import UTC, datetime, timedelta, timezone

SHANGHAI = timezone(timedelta(hours=8))


def new_uuid() -> str:
    return str(uuidlib.uuid4())


def device_time(delta: timedelta = timedelta(0)) -> str:
    """An ISO time with the phone's +08:00 offset, delta from now."""
    return (datetime.now(UTC) + delta).astimezone(SHANGHAI).isoformat()


def crop(**overrides) -> dict:
    return {
        "uuid": new_uuid(),
        "crop": "kiwifruit",
        "crop_name": None,
        "area_mu": "0.5",
        "plants": 40,
        "yield_kg": None,
        "expected_income_fen": 200000,
        "season_year": 2026,
    } | overrides


def visit(household_id: int, uuid: str | None = None, **data) -> dict:
    body = {
        "household_id": household_id,
        "visited_at": device_time(-timedelta(hours=1)),
        "location": {"lat": 36.5, "lon": 118.1, "accuracy_m": 12.0},
        "situation": {"health": "same", "income": "better", "housing": "same", "schooling": None},
        "sudden_event": None,
        "notes": "家中一切正常",
        "needs": None,
        "follow_up": None,
        "crops": [],
        "photo_uuids": [],
        "report_ids": [],
    } | data
    return {"uuid": uuid or new_uuid(), "kind": "visit", "data": body}


def edit(household_id: int, base_version: int, changes: dict, uuid: str | None = None) -> dict:
    data = {"household_id": household_id, "base_version": base_version, "changes": changes}
    return {"uuid": uuid or new_uuid(), "kind": "household_edit", "data": data}


DEVICE = {
    "id": "8b0c7d4e-phone-1",
    "app_version": "abc123",
    "pending_records": 3,
    "pending_photos": 2,
    "storage_free_bytes": 123456789,
}


def push(client, records, device=DEVICE):
    return client.post("/api/sync/push", json={"device": device, "records": records})


def results(client, records, device=DEVICE) -> list[dict]:
    response = push(client, records, device)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"]
