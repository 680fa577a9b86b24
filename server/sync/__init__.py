"""The sync API the cadres' phones use: push records, pull households (docs/sync.md).

Photos travel on their own through server/photos.py.
"""

from flask import Blueprint, current_app, request
from flask_login import current_user, login_required
from marshmallow import ValidationError

from .. import changes  # noqa: F401  (its session hooks number every change phones pull)
from ..apidoc import documented
from ..errors import ApiError, validation_fields
from ..extensions import db
from ..models import utcnow
from ..schemas.sync import (
    MAX_RECORDS,
    DeviceSchema,
    HouseholdEditRecordSchema,
    PullQuerySchema,
    PullResponseSchema,
    PushResponseSchema,
    PushSchema,
    VisitRecordSchema,
)
from ..transactions import begin_write
from .pull import pull_page
from .push import process_records, record_device

bp = Blueprint("sync", __name__, url_prefix="/api/sync")

# The push body as phones send it: PushSchema reads the envelope, each record's kind then
# picks the schema of its data (sync/push.py).
PUSH_BODY = {
    "type": "object",
    "required": ["records"],
    "properties": {
        "device": DeviceSchema,
        "records": {
            "type": "array",
            "maxItems": MAX_RECORDS,
            "items": {"oneOf": [VisitRecordSchema, HouseholdEditRecordSchema]},
        },
    },
}


def _load_envelope() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "malformed_envelope", "The body must be a JSON object.")
    records = body.get("records")
    if isinstance(records, list) and len(records) > MAX_RECORDS:
        raise ApiError(413, "too_many_records", f"Send at most {MAX_RECORDS} records per request.")
    try:
        return PushSchema().load(body)
    except ValidationError as exc:
        raise ApiError(
            400, "malformed_envelope", "The push envelope is not valid.", validation_fields(exc)
        ) from None


def _load_device(raw) -> dict | None:
    """The phone's report on itself; one that does not fit is logged and left out, never a
    reason to refuse the records."""
    if raw is None:
        return None
    try:
        return DeviceSchema().load(raw)
    except ValidationError as exc:
        current_app.logger.warning("push %s: device block ignored: %s", current_user.id, exc)
        return None


@bp.post("/push")
@login_required
@documented(
    "sync",
    {200: PushResponseSchema},
    body=PUSH_BODY,
    errors={
        400: "Malformed envelope (no record acknowledged)",
        401: "Not signed in (keep the queue)",
        413: "More than 100 records, or a body over the size limit",
    },
)
def push_records():
    """Store a batch of records made on a phone; one result per record, in order.

    Each record's UUID is its permanent key: the same record sent again answers "duplicate"
    with what the first push answered, and never makes a second row. A rejected record (4xx
    in its result, with `fields` and `codes`) is left out alone; the rest still land. A
    whole-request 5xx means nothing was stored. See docs/sync.md.
    """
    envelope = _load_envelope()
    device = _load_device(envelope["device"])
    begin_write()
    user = current_user._get_current_object()
    results = process_records(user, envelope["records"])
    record_device(user, device, results)
    db.session.commit()
    return PushResponseSchema().dump({"results": results, "server_time": utcnow()})


@bp.get("/pull")
@login_required
@documented(
    "sync",
    {200: PullResponseSchema},
    query=PullQuerySchema,
    errors={400: "Bad or stale cursor (pull again without one)"},
)
def pull_changes():
    """The user's households, and what changed for them since a cursor this server issued.

    No cursor: every household in scope. The cursor is a position in the server's change
    sequence, never a clock. Pages are keyset pages: while "more" is true, call again with
    the returned cursor. "removed" lists households no longer assigned to the cadre.
    """
    args = PullQuerySchema().load(request.args)
    page = pull_page(current_user, args.get("cursor"), args["limit"])
    return PullResponseSchema().dump(page)
