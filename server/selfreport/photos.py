"""Photos sent with a self-report: decoded with a pixel limit, turned upright, re-encoded.

Only the re-encoded JPEG is kept: the original bytes, their EXIF (GPS, device, time) and any
other metadata never reach the disk. Stored content-addressed under the instance folder.
Meant to be folded into the shared photo storage (server/storage.py) at merge.
"""

import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo decodes to ~120 MB of RGB: the ceiling
LONG_EDGE = 1600
JPEG_QUALITY = 82


class ImageRejected(Exception):
    """The upload is not an image we accept; args[0] says why: not_an_image, too_many_pixels."""


@dataclass(frozen=True)
class Reencoded:
    data: bytes
    width: int
    height: int
    original_sha256: str

    @property
    def storage_key(self) -> str:
        return hashlib.sha256(self.data).hexdigest() + ".jpg"


def reencode(raw: bytes) -> Reencoded:
    """The upload as an upright, metadata-free JPEG no longer than LONG_EDGE on any side."""
    # Pillow refuses images above MAX_IMAGE_PIXELS (error at twice the limit, a warning
    # between); the warning is turned into an error too, and our own ceiling checked first.
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=ACCEPTED_FORMATS) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise ImageRejected("too_many_pixels")
                image = _upright_rgb(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("too_many_pixels") from None
    # Not an image, a format we do not take, or a truncated or corrupt file.
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageRejected("not_an_image") from None
    image.thumbnail((LONG_EDGE, LONG_EDGE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # No exif= argument: the new file carries no metadata at all.
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return Reencoded(out.getvalue(), image.width, image.height, hashlib.sha256(raw).hexdigest())


def _upright_rgb(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation (so the pixels are the right way up once EXIF is gone),
    then flatten any transparency onto white."""
    image.seek(0)  # the first frame of an animation
    upright = ImageOps.exif_transpose(image)
    if upright.mode in ("RGBA", "LA", "P"):
        rgba = upright.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return upright.convert("RGB")


def photo_root() -> Path:
    return Path(current_app.instance_path) / "photos"


def path_for(storage_key: str) -> Path:
    if len(storage_key) != 68 or not storage_key.endswith(".jpg"):
        raise ValueError("not a storage key")
    return photo_root() / storage_key[:2] / storage_key


def save(photo: Reencoded) -> str:
    """Write the JPEG once; the same bytes always land at the same key."""
    path = path_for(photo.storage_key)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half a file.
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(photo.data)
        os.replace(temporary, path)
    return photo.storage_key
