"""Where photo bytes live, addressed by their content's hash.

`Storage` is the whole interface: put, get, exists. The local folder below implements it; an
S3-compatible store (key = object name) would implement the same three calls. Keys are
content hashes, so writing a key twice writes the same bytes and readers never see a change.
"""

import os
import tempfile
from pathlib import Path
from typing import Protocol

from flask import current_app


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes:
        """The bytes under key; KeyError when there are none."""
        ...

    def exists(self, key: str) -> bool: ...


class LocalFolderStorage:
    """Files under a folder, fanned out by the key's first characters (ab/cd/abcd...)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not key.replace("-", "").replace(".", "").isalnum() or "/" in key or len(key) < 8:
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.exists():
            return  # same key, same content
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write aside, then rename: a reader never sees half a file, even after a crash.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).exists()


def current() -> Storage:
    """The app's photo storage: PHOTO_STORAGE_DIR, else photos/ in the instance folder."""
    app = current_app
    if "zoufang_storage" not in app.extensions:
        root = app.config.get("PHOTO_STORAGE_DIR") or Path(app.instance_path) / "photos"
        app.extensions["zoufang_storage"] = LocalFolderStorage(root)
    return app.extensions["zoufang_storage"]
