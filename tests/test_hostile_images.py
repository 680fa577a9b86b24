"""Hostile images cost little to refuse: a pixel budget lower for the public QR page than for
staff, bounded PNG metadata, and a few decodes at once per process, the rest told "busy"."""

import io
import threading

import pytest
from PIL import Image

from server import images
from server.models import Photo, SelfReport
from tests.hostile_images import HOSTILE, black_png, iccp_bomb, text_flood, ztxt_flood
from tests.test_photos import photo_count, pushed, stored_files, upload  # noqa: F401
from tests.test_selfreport import count, issue, send, stored_photo_files


def _jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 140, 60)).save(out, "JPEG", quality=70)
    return out.getvalue()


@pytest.mark.parametrize("name", list(HOSTILE))
def test_each_hostile_png_is_refused_on_the_public_page_and_nothing_changes(
    world, client, app, name
):
    token = issue(world.h_chengzi)
    response = send(client, token, photo=HOSTILE[name]())
    assert response.status_code in (413, 422), name
    page = response.get_data(as_text=True)
    assert "这张图片太大" in page or "不是能识别的照片" in page
    assert count(SelfReport) == count(Photo) == 0
    assert stored_photo_files(app) == []


def test_the_public_budget_is_lower_than_the_staff_one():
    assert images.PUBLIC.decoded < images.STAFF.decoded
    fourteen_mp = black_png(4320, 3240)
    assert images.reencode(fourteen_mp, 2048, images.STAFF).width == 2048
    with pytest.raises(images.TooManyPixels):
        images.reencode(fourteen_mp, 1600, images.PUBLIC)


def test_a_big_camera_jpeg_still_fits_the_public_budget(world, client):
    """JPEG decodes scaled down, so a 27 MP photo (over the staff limit) costs ~2 MP."""
    photo = _jpeg(6000, 4500)
    with pytest.raises(images.TooManyPixels):
        images.reencode(photo, 2048, images.STAFF)
    assert images.decode(photo, 1600, images.PUBLIC).size == (1600, 1200)
    response = send(client, issue(world.h_chengzi), photo=photo)
    assert response.status_code == 303
    assert count(Photo) == 1


@pytest.mark.parametrize(
    "hostile", [ztxt_flood, text_flood, iccp_bomb], ids=["zTXt", "tEXt", "iCCP"]
)
def test_png_metadata_is_bounded_before_any_pixel(hostile):
    with pytest.raises(images.ImageProblem):
        images.decode(hostile(), 1600, images.PUBLIC)


def _all_slots_taken():
    for _ in range(images.DECODES_AT_ONCE):
        assert images._decoding.acquire(timeout=1)


def _free_all_slots():
    for _ in range(images.DECODES_AT_ONCE):
        images._decoding.release()


def test_a_full_decoder_answers_busy_on_the_public_page(world, client, app, monkeypatch):
    monkeypatch.setattr(images, "DECODE_WAIT_SECONDS", 0.05)
    token = issue(world.h_chengzi)
    _all_slots_taken()
    try:
        busy = send(client, token, photo=_jpeg(800, 600))
    finally:
        _free_all_slots()
    assert busy.status_code == 503
    assert "照片较多" in busy.get_data(as_text=True)
    assert count(SelfReport) == count(Photo) == 0 and stored_photo_files(app) == []
    assert send(client, token, photo=_jpeg(800, 600)).status_code == 303


def test_a_full_decoder_answers_503_with_retry_after_to_the_phone(app, pushed, monkeypatch):  # noqa: F811
    monkeypatch.setattr(images, "DECODE_WAIT_SECONDS", 0.05)
    client, record, photos, _ = pushed
    _all_slots_taken()
    try:
        busy = upload(client, photos[0], record["uuid"], _jpeg(800, 600))
    finally:
        _free_all_slots()
    assert busy.status_code == 503 and busy.get_json()["error"] == "busy"
    assert int(busy.headers["Retry-After"]) > 0
    assert photo_count() == 0 and stored_files(app) == []
    assert upload(client, photos[0], record["uuid"], _jpeg(800, 600)).status_code == 201


def test_decodes_beyond_the_slots_wait_briefly_then_get_in(monkeypatch):
    """A slot freed within the wait is taken: busy means full for the whole wait, not a race."""
    monkeypatch.setattr(images, "DECODE_WAIT_SECONDS", 5)
    _all_slots_taken()
    threading.Timer(0.2, images._decoding.release).start()
    try:
        assert images.reencode(_jpeg(400, 300), 400).width == 400
    finally:
        for _ in range(images.DECODES_AT_ONCE - 1):
            images._decoding.release()
