"""Photos: uploaded one request each from the phone, idempotent by UUID and SHA-256, served
only within the user's scope. Bytes live in server/storage.py, addressed by content."""

import hashlib

from flask import Blueprint, Response, abort, current_app, request
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from . import access, images, storage
from .apidoc import File, documented
from .coverage import flag_photo
from .errors import ApiError
from .extensions import db
from .models import Photo, User, Visit
from .schemas.sync import PhotoResultSchema, PhotoUploadSchema, photo_ref
from .transactions import begin_write

bp = Blueprint("photos", __name__, url_prefix="/api")

DEFAULTS = {
    # Bytes of one uploaded file. The phone sends about 300 KB; this leaves room for a phone
    # that could not resize.
    "PHOTO_MAX_BYTES": 10 * 1024 * 1024,
    # Long edge of the stored image; the phone already sends 1600 px.
    "PHOTO_MAX_EDGE": 2048,
    # Where the local storage keeps files (default: photos/ in the instance folder).
    "PHOTO_STORAGE_DIR": None,
}
YEAR = 365 * 24 * 3600


@bp.record_once
def _config_defaults(state) -> None:
    for name, value in DEFAULTS.items():
        state.app.config.setdefault(name, value)


def _read_upload() -> bytes:
    upload = request.files.get("file")
    if upload is None:
        fields = {"file": ["Missing data for required field."]}
        raise ApiError(422, "validation_failed", "Some fields are not valid.", fields)
    limit = current_app.config["PHOTO_MAX_BYTES"]
    raw = upload.stream.read(limit + 1)
    if len(raw) > limit:
        raise ApiError(413, "too_large", f"A photo may be at most {limit // 1024 // 1024} MB.")
    return raw


def _in_scope(user: User, uuid: str) -> Photo | None:
    return db.session.scalar(access.photos(user).where(Photo.uuid == uuid))


def _visit(user: User, visit_uuid: str) -> Visit:
    visit = db.session.scalar(access.visits(user).where(Visit.uuid == visit_uuid))
    if visit is None:
        raise ApiError(409, "visit_not_synced", "Push the visit first, then its photos.")
    return visit


def _answer(photo: Photo, status: str, code: int):
    return PhotoResultSchema().dump(
        {**photo_ref(photo.uuid), "id": photo.id, "status": status}
    ), code


def _answer_stored(photo: Photo, sha256: str):
    if photo.sha256 != sha256:
        raise ApiError(409, "photo_conflict", "Another photo is stored under this UUID.")
    return _answer(photo, "duplicate", 200)


@bp.put("/sync/photos/<uuid:photo_uuid>")
@login_required
@documented(
    "sync",
    {
        200: ("Already stored (same UUID and SHA-256)", PhotoResultSchema),
        201: ("Stored", PhotoResultSchema),
    },
    form=PhotoUploadSchema,
    errors={
        409: "visit_not_synced: push the visit first; photo_conflict: the UUID is taken",
        413: "The file is too large",
        422: "Not an image, too many pixels, or the SHA-256 does not match",
        503: "busy: the server decodes other photos; send again after Retry-After",
    },
)
def upload(photo_uuid):
    """Upload one photo of a visit; sending the same UUID and bytes again changes nothing."""
    uuid = str(photo_uuid)
    form = PhotoUploadSchema().load(request.form.to_dict())
    raw = _read_upload()
    if hashlib.sha256(raw).hexdigest() != form["sha256"]:
        fields = {"sha256": ["Does not match the file."]}
        raise ApiError(422, "checksum_mismatch", "The file does not match its SHA-256.", fields)
    found = _in_scope(current_user, uuid)
    if found is not None:
        return _answer_stored(found, form["sha256"])
    _visit(current_user, str(form["visit_uuid"]))
    try:
        image = images.reencode(raw, current_app.config["PHOTO_MAX_EDGE"])
    except images.ImageProblem as exc:
        raise ApiError(422, "bad_image", str(exc), {"file": [str(exc)]}) from None
    except images.DecoderBusy:
        wait = {"Retry-After": str(images.DecoderBusy.retry_after)}
        raise ApiError(503, "busy", "Too many photos at once; send again.", headers=wait) from None
    # Files first, outside the write lock: they are addressed by content, so a file whose row
    # never commits is only an unused copy, and a retry writes the same bytes.
    store = storage.current()
    store.put(image.key, image.data)
    store.put(images.thumb_key(image.key), image.thumb)
    return _store_row(uuid, form, image)


def _store_row(uuid: str, form: dict, image: images.Encoded):
    begin_write()
    user = current_user._get_current_object()
    found = _in_scope(user, uuid)
    if found is not None:
        return _answer_stored(found, form["sha256"])
    visit = _visit(user, str(form["visit_uuid"]))
    photo = Photo(
        uuid=uuid,
        household_id=visit.household_id,
        visit_id=visit.id,
        sha256=form["sha256"],
        storage_key=image.key,
        size_bytes=len(image.data),
        width=image.width,
        height=image.height,
        uploaded_by_id=user.id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(photo)
    except IntegrityError:  # the same UUID arrived at the same moment, or belongs elsewhere
        found = _in_scope(user, uuid)
        if found is None:
            raise ApiError(
                409, "photo_conflict", "Another photo is stored under this UUID."
            ) from None
        return _answer_stored(found, form["sha256"])
    if uuid not in visit.photo_uuids:  # a photo the visit did not announce is kept all the same
        visit.photo_uuids = [*visit.photo_uuids, uuid]
        visit.photos_expected = len(visit.photo_uuids)
    flag_photo(photo)  # the same picture on another household's visit deserves a look
    db.session.commit()
    return _answer(photo, "created", 201)


def _serve(photo_uuid, thumbnail: bool) -> Response:
    photo = _in_scope(current_user, str(photo_uuid))
    if photo is None:
        abort(404)
    key = images.thumb_key(photo.storage_key) if thumbnail else photo.storage_key
    try:
        data = storage.current().get(key)
    except KeyError:
        abort(404)
    response = Response(data, mimetype="image/jpeg")
    # A UUID's bytes never change; private, because only users in scope may see it.
    response.set_etag(key)
    response.cache_control.private = True
    response.cache_control.max_age = YEAR
    response.cache_control.immutable = True
    return response.make_conditional(request)


@bp.get("/photos/<uuid:photo_uuid>")
@login_required
@documented("sync", {200: File("image/jpeg"), 304: "Not modified (If-None-Match)"})
def photo(photo_uuid):
    """A photo, re-encoded as JPEG without metadata."""
    return _serve(photo_uuid, thumbnail=False)


@bp.get("/photos/<uuid:photo_uuid>/thumb")
@login_required
@documented("sync", {200: File("image/jpeg"), 304: "Not modified (If-None-Match)"})
def thumbnail(photo_uuid):
    """A photo's thumbnail (long edge 320 px)."""
    return _serve(photo_uuid, thumbnail=True)
