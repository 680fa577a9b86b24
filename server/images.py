"""Uploaded photos made safe to keep and serve: decoded by content with a pixel limit,
turned upright, re-encoded as JPEG without any metadata (EXIF, GPS, comments), thumbnailed."""

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

# About twice a 12-megapixel phone photo: the cadres' app shrinks photos before sending them.
MAX_PIXELS = 24_000_000
# A family's photo comes straight from the phone's camera (40 MP covers today's phones).
MAX_PIXELS_UNRESIZED = 40_000_000
# Pillow refuses twice this as a decompression bomb before decoding anything; below it,
# decode() refuses what is above the caller's own limit.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS_UNRESIZED
FORMATS = ("JPEG", "PNG", "WEBP")
THUMB_EDGE = 320
QUALITY = 80
THUMB_QUALITY = 75


class ImageProblem(Exception):
    """The upload is not an image we keep; the message says why."""


class TooManyPixels(ImageProblem):
    """An image, but larger than we decode."""


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


def decode(raw: bytes, max_edge: int, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The picture, upright, in RGB, at most max_edge on its long side."""
    try:
        with Image.open(io.BytesIO(raw), formats=FORMATS) as source:
            if source.width * source.height > max_pixels:
                raise TooManyPixels("The image has too many pixels.")
            source.draft("RGB", (max_edge, max_edge))  # JPEG: decode at a smaller scale
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


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def reencode(raw: bytes, max_edge: int, max_pixels: int = MAX_PIXELS) -> Encoded:
    image = decode(raw, max_edge, max_pixels)
    data = _jpeg(image, QUALITY)
    width, height = image.size
    image.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.LANCZOS)
    thumb = _jpeg(image, THUMB_QUALITY)
    source = hashlib.sha256(raw).hexdigest()
    return Encoded(data=data, thumb=thumb, width=width, height=height, source_sha256=source)
