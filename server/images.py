"""Uploaded photos made safe to keep and serve: decoded by content within a pixel budget,
turned upright, re-encoded as JPEG without any metadata (EXIF, GPS, comments), thumbnailed.

Decoding is the expensive part, and the public QR page lets anyone upload: a 128 KB PNG can
declare 36 million pixels, which cost 0.6 s of CPU and 200 MB to decode. So each caller
gives a budget, PNG metadata chunks are bounded, and only a few decodes run at once in a
process; the others get DecoderBusy at once rather than waiting in a queue without end.
"""

import hashlib
import io
import threading
from dataclasses import dataclass

from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError


@dataclass(frozen=True)
class Budget:
    """`declared`: the largest width x height accepted at all. `decoded`: the most pixels
    actually decoded, after JPEG's scaled-down decoding (a 40 MP camera JPEG decodes at a
    quarter of each side, so it fits; a PNG or WebP decodes whole, so it must be small)."""

    declared: int
    decoded: int


# The cadres' app shrinks photos before sending them: about twice a 12 MP phone photo.
STAFF = Budget(declared=24_000_000, decoded=24_000_000)
# A family's photo comes straight from the camera (40 MP covers today's phones) or is a
# screenshot (at most ~5 MP); nobody needs to be signed in, so it decodes the least. 12 MP
# holds any JPEG decoded down towards a 1600 px edge (at worst 3199 x 3199 before a halving).
PUBLIC = Budget(declared=40_000_000, decoded=12_000_000)
# Pillow refuses twice this as a decompression bomb before decoding anything; below it,
# decode() refuses what is above the caller's own budget.
Image.MAX_IMAGE_PIXELS = max(STAFF.declared, PUBLIC.declared)
# PNG text and ICC chunks are inflated while the file is opened, before any pixel limit:
# a real profile is a few KB and a photo has no business with megabytes of text.
PngImagePlugin.MAX_TEXT_CHUNK = 256 * 1024
PngImagePlugin.MAX_TEXT_MEMORY = 1024 * 1024
# Decodes at once per process (each may hold ~100 MB at the top of its budget), and how
# long a request waits for a free one before answering "busy".
DECODES_AT_ONCE = 2
DECODE_WAIT_SECONDS = 2.0
_decoding = threading.BoundedSemaphore(DECODES_AT_ONCE)
FORMATS = ("JPEG", "PNG", "WEBP")
THUMB_EDGE = 320
QUALITY = 80
THUMB_QUALITY = 75


class ImageProblem(Exception):
    """The upload is not an image we keep; the message says why."""


class TooManyPixels(ImageProblem):
    """An image, but larger than we decode."""


class DecoderBusy(Exception):
    """Every decode slot of this process is taken; the upload may be sent again shortly."""

    retry_after = 10  # seconds


@dataclass(frozen=True)
class Encoded:
    data: bytes
    thumb: bytes
    width: int
    height: int
    source_sha256: str  # of the bytes as uploaded

    @property
    def key(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def thumb_key(key: str) -> str:
    """The thumbnail is made from the same pixels as the image, so it lives beside its key."""
    return f"{key}-thumb"


def decode(raw: bytes, max_edge: int, budget: Budget = STAFF) -> Image.Image:
    """The picture, upright, in RGB, at most max_edge on its long side."""
    try:
        with Image.open(io.BytesIO(raw), formats=FORMATS) as source:
            if source.width * source.height > budget.declared:
                raise TooManyPixels("The image has too many pixels.")
            source.draft("RGB", _fitted(source.size, max_edge))  # JPEG: decode scaled down
            if source.width * source.height > budget.decoded:
                raise TooManyPixels("The image has too many pixels.")
            source.load()
            ImageOps.exif_transpose(source, in_place=True)
            image = source if source.mode == "RGB" else source.convert("RGB")
    except Image.DecompressionBombError:
        raise TooManyPixels("The image has too many pixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ImageProblem("The file is not a JPEG, PNG or WebP image.") from None
    image.thumbnail((max_edge, max_edge), Image.Resampling.LANCZOS)
    image.info.clear()  # nothing of the original file's metadata is written back
    return image


def _fitted(size: tuple[int, int], max_edge: int) -> tuple[int, int]:
    """The size `size` is shrunk to, so JPEG's draft may scale by the long side alone."""
    width, height = size
    ratio = min(1.0, max_edge / max(width, height, 1))
    return max(1, int(width * ratio)), max(1, int(height * ratio))


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def reencode(raw: bytes, max_edge: int, budget: Budget = STAFF) -> Encoded:
    """The upload decoded within `budget` and written again; DecoderBusy when this process
    already decodes all it may."""
    if not _decoding.acquire(timeout=DECODE_WAIT_SECONDS):
        raise DecoderBusy()
    try:
        image = decode(raw, max_edge, budget)
        data = _jpeg(image, QUALITY)
        width, height = image.size
        image.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.LANCZOS)
        thumb = _jpeg(image, THUMB_QUALITY)
    finally:
        _decoding.release()
    source = hashlib.sha256(raw).hexdigest()
    return Encoded(data=data, thumb=thumb, width=width, height=height, source_sha256=source)
