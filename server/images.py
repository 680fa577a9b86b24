"""Uploaded photos made safe to keep and serve: decoded by content with a pixel limit,
turned upright, re-encoded as JPEG without any metadata (EXIF, GPS, comments), thumbnailed."""

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

# About twice a 12-megapixel phone photo. Pillow itself refuses twice this (a decompression
# bomb) before decoding; between the two, decode() refuses it.
MAX_PIXELS = 24_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
FORMATS = ("JPEG", "PNG", "WEBP")
THUMB_EDGE = 320
QUALITY = 80
THUMB_QUALITY = 75


class ImageProblem(Exception):
    """The upload is not an image we keep; the message says why."""


@dataclass(frozen=True)
class Encoded:
    data: bytes
    thumb: bytes
    width: int
    height: int

    @property
    def key(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def thumb_key(key: str) -> str:
    """The thumbnail is made from the same pixels as the image, so it lives beside its key."""
    return f"{key}-thumb"


def decode(raw: bytes, max_edge: int) -> Image.Image:
    """The picture, upright, in RGB, at most max_edge on its long side."""
    try:
        with Image.open(io.BytesIO(raw), formats=FORMATS) as source:
            if source.width * source.height > MAX_PIXELS:
                raise ImageProblem("The image has too many pixels.")
            source.draft("RGB", (max_edge, max_edge))  # JPEG: decode at a smaller scale
            source.load()
            ImageOps.exif_transpose(source, in_place=True)
            image = source if source.mode == "RGB" else source.convert("RGB")
    except Image.DecompressionBombError:
        raise ImageProblem("The image has too many pixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ImageProblem("The file is not a JPEG, PNG or WebP image.") from None
    image.thumbnail((max_edge, max_edge), Image.Resampling.LANCZOS)
    image.info.clear()  # nothing of the original file's metadata is written back
    return image


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def reencode(raw: bytes, max_edge: int) -> Encoded:
    image = decode(raw, max_edge)
    data = _jpeg(image, QUALITY)
    width, height = image.size
    image.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.LANCZOS)
    return Encoded(data=data, thumb=_jpeg(image, THUMB_QUALITY), width=width, height=height)
