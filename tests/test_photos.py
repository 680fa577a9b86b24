"""Photo upload and serving: idempotent, checked by content, re-encoded, scoped."""

import hashlib
import io
import threading
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from server.extensions import db
from server.models import Photo, Visit
from tests.syncdata import new_uuid, results, visit


def jpeg(size=(800, 600), colour=(40, 120, 60), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=80, **save)
    return out.getvalue()


def stored_files(app) -> list[Path]:
    root = Path(app.instance_path) / "photos"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def photo_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Photo))


def upload(client, photo_uuid, visit_uuid, data: bytes, sha256: str | None = None):
    form = {
        "visit_uuid": visit_uuid,
        "sha256": sha256 or hashlib.sha256(data).hexdigest(),
        "file": (io.BytesIO(data), "photo.jpg", "image/jpeg"),
    }
    return client.put(f"/api/sync/photos/{photo_uuid}", data=form)


@pytest.fixture
def pushed(world, login):
    """A cadre's client and a visit already on the server that expects two photos."""
    client = login("chengzi_cadre")
    photos = [new_uuid(), new_uuid()]
    record = visit(world.h_chengzi.id, photo_uuids=photos)
    [result] = results(client, [record])
    return client, record, photos, result


def test_upload_stores_reencoded_photo_and_thumbnail(app, pushed):
    client, record, photos, _ = pushed
    response = upload(client, photos[0], record["uuid"], jpeg((2400, 1800)))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "created" and body["uuid"] == photos[0]
    assert body["url"] == f"/api/photos/{photos[0]}"
    assert body["thumb_url"] == f"/api/photos/{photos[0]}/thumb"
    image = client.get(body["url"])
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert max(Image.open(io.BytesIO(image.data)).size) == 2048  # PHOTO_MAX_EDGE
    thumb = client.get(body["thumb_url"])
    assert Image.open(io.BytesIO(thumb.data)).size == (320, 240)
    assert len(stored_files(app)) == 2
    row = db.session.scalar(select(Photo))
    assert (row.width, row.height, row.household_id) == (2048, 1536, record["data"]["household_id"])


def test_push_replay_lists_the_photos_still_missing(pushed):
    client, record, photos, result = pushed
    assert result["photos_missing"] == photos
    upload(client, photos[1], record["uuid"], jpeg())
    [again] = results(client, [record])
    assert again["status"] == "duplicate" and again["photos_missing"] == [photos[0]]


def test_photo_is_served_with_caching_headers(pushed):
    client, record, photos, _ = pushed
    upload(client, photos[0], record["uuid"], jpeg())
    first = client.get(f"/api/photos/{photos[0]}")
    cache = first.headers["Cache-Control"]
    assert "private" in cache and "max-age=31536000" in cache and "immutable" in cache
    assert first.headers["ETag"]
    again = client.get(f"/api/photos/{photos[0]}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_same_upload_twice_is_one_photo(app, pushed):
    client, record, photos, _ = pushed
    data = jpeg()
    first = upload(client, photos[0], record["uuid"], data)
    second = upload(client, photos[0], record["uuid"], data)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.get_json()["status"] == "duplicate"
    assert first.get_json()["id"] == second.get_json()["id"]
    assert photo_count() == 1 and len(stored_files(app)) == 2
    other_bytes = upload(client, photos[0], record["uuid"], jpeg(colour=(200, 10, 10)))
    assert other_bytes.status_code == 409
    assert other_bytes.get_json()["error"] == "photo_conflict"
    assert photo_count() == 1


def test_concurrent_uploads_of_one_photo_make_one_row(app, pushed, login):
    _, record, photos, _ = pushed
    clients = [login("chengzi_cadre"), login("chengzi_cadre")]
    data = jpeg()
    barrier = threading.Barrier(2)
    answers = [None, None]

    def run(index):
        barrier.wait()
        answers[index] = upload(clients[index], photos[0], record["uuid"], data)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(a.status_code for a in answers) == [200, 201]
    assert photo_count() == 1


def test_photo_before_its_visit_is_409_and_stores_nothing(app, world, login):
    client = login("chengzi_cadre")
    response = upload(client, new_uuid(), new_uuid(), jpeg())
    assert response.status_code == 409
    assert response.get_json()["error"] == "visit_not_synced"
    assert photo_count() == 0 and stored_files(app) == []


def test_not_an_image_is_422_and_stores_nothing(app, pushed):
    client, record, photos, _ = pushed
    fake = b"\xff\xd8\xff\xe0 this is not really a JPEG" * 10
    response = upload(client, photos[0], record["uuid"], fake)
    assert response.status_code == 422 and response.get_json()["error"] == "bad_image"
    truncated = jpeg()[:400]
    assert upload(client, photos[0], record["uuid"], truncated).status_code == 422
    assert photo_count() == 0 and stored_files(app) == []


def test_oversized_upload_is_413_and_stores_nothing(app, pushed):
    client, record, photos, _ = pushed
    app.config["PHOTO_MAX_BYTES"] = 20_000
    noisy = Image.effect_noise((400, 400), 80).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "JPEG", quality=95)
    assert len(out.getvalue()) > 20_000
    response = upload(client, photos[0], record["uuid"], out.getvalue())
    assert response.status_code == 413 and response.get_json()["error"] == "too_large"
    assert photo_count() == 0 and stored_files(app) == []


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side", [6000, 8000])  # over the limit; over twice the limit
def test_decompression_bomb_is_422(app, pushed, side):
    client, record, photos, _ = pushed
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, "PNG")
    assert len(out.getvalue()) < 100_000  # tiny on the wire, huge in memory
    response = upload(client, photos[0], record["uuid"], out.getvalue())
    assert response.status_code == 422
    assert "pixels" in response.get_json()["message"]
    assert photo_count() == 0 and stored_files(app) == []


def test_checksum_mismatch_is_422(app, pushed):
    client, record, photos, _ = pushed
    response = upload(client, photos[0], record["uuid"], jpeg(), sha256="0" * 64)
    assert response.status_code == 422 and response.get_json()["error"] == "checksum_mismatch"
    assert photo_count() == 0


def test_exif_is_stripped_and_orientation_applied(pushed):
    client, record, photos, _ = pushed
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825)[2] = (36.0, 30.0, 0.0)  # GPS latitude
    data = jpeg((400, 200), exif=exif.tobytes(), comment=b"home of household H0001")
    assert Image.open(io.BytesIO(data)).getexif()[0x0112] == 6
    body = upload(client, photos[0], record["uuid"], data).get_json()
    served = Image.open(io.BytesIO(client.get(body["url"]).data))
    assert served.size == (200, 400)
    assert dict(served.getexif()) == {}
    assert "exif" not in served.info and "comment" not in served.info
    assert b"PhoneMaker" not in client.get(body["url"]).data


def test_png_is_accepted_and_stored_as_jpeg(pushed):
    client, record, photos, _ = pushed
    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (10, 20, 30, 128)).save(out, "PNG")
    body = upload(client, photos[0], record["uuid"], out.getvalue()).get_json()
    assert Image.open(io.BytesIO(client.get(body["url"]).data)).format == "JPEG"


def test_photos_are_served_only_within_scope(world, pushed, login):
    client, record, photos, _ = pushed
    body = upload(client, photos[0], record["uuid"], jpeg()).get_json()
    for username, expected in [
        ("shamao_cadre", 404),
        ("other_supervisor", 404),
        ("town_supervisor", 200),
        ("chengzi_supervisor", 200),
    ]:
        other = login(username)
        assert other.get(body["url"]).status_code == expected, username
        assert other.get(body["thumb_url"]).status_code == expected, username
    assert client.get(f"/api/photos/{new_uuid()}").status_code == 404


def test_upload_to_a_foreign_visit_is_refused(world, pushed, login):
    _, record, photos, _ = pushed
    stranger = login("shamao_cadre")
    response = upload(stranger, photos[0], record["uuid"], jpeg())
    assert response.status_code == 409  # as if the visit did not exist
    assert photo_count() == 0


def test_unannounced_photo_is_kept_and_expected(pushed):
    client, record, _, _ = pushed
    extra = new_uuid()
    assert upload(client, extra, record["uuid"], jpeg()).status_code == 201
    db.session.rollback()
    stored = db.session.scalar(select(Visit))
    assert extra in stored.photo_uuids and stored.photos_expected == 3


def test_upload_needs_csrf(pushed):
    client, record, photos, _ = pushed
    data = jpeg()
    form = {
        "visit_uuid": record["uuid"],
        "sha256": hashlib.sha256(data).hexdigest(),
        "file": (io.BytesIO(data), "p.jpg"),
    }
    assert client.client.put(f"/api/sync/photos/{photos[0]}", data=form).status_code == 403


def test_photo_changes_show_in_the_next_pull(pushed):
    client, record, photos, _ = pushed
    cursor = client.get("/api/sync/pull").get_json()["cursor"]
    upload(client, photos[0], record["uuid"], jpeg())
    page = client.get("/api/sync/pull", query_string={"cursor": cursor}).get_json()
    [household] = page["households"]
    [pulled] = household["visits"]
    assert [p["uuid"] for p in pulled["photos"]] == [photos[0]]
    assert pulled["photos_missing"] == [photos[1]]
