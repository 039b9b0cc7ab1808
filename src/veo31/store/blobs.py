"""Blob storage for videos, posters and reference images, behind one small interface.

Keys look like `videos/<id>.mp4`. Writes are atomic: a blob is either absent or complete, never half-written.
`LocalBlobStore` keeps blobs in the data folder; an S3 implementation joins later behind the same protocol.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Protocol

from veo31.domain import NotFoundError

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)+$")


def check_key(key: str) -> str:
    if not _KEY.match(key) or ".." in key:
        raise ValueError(f"not a blob key: {key!r}")
    return key


class BlobStore(Protocol):
    def put_file(self, key: str, source: Path) -> None:
        """Move (or copy) a finished local file into the store under `key`, atomically."""

    def put_bytes(self, key: str, data: bytes) -> None: ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...

    def local_path(self, key: str) -> Path:
        """A path the web server can send from (with HTTP Range); NotFoundError if the blob is missing."""

    def delete(self, key: str) -> None: ...

    def scratch_dir(self) -> Path:
        """A folder for partial downloads on the same filesystem as the store, so the final move is atomic."""


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / ".partial").mkdir(exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_file(self, key: str, source: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, target)
        except OSError:
            staged = self._stage(target)
            shutil.copyfile(source, staged)
            os.replace(staged, target)

    def put_bytes(self, key: str, data: bytes) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = self._stage(target)
        staged.write_bytes(data)
        os.replace(staged, target)

    def _stage(self, target: Path) -> Path:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
        os.close(fd)
        return Path(name)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        return self.local_path(key).stat().st_size

    def local_path(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise NotFoundError(f"{key} is not in storage")
        return path

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def scratch_dir(self) -> Path:
        return self.root / ".partial"
