"""Blob storage for videos, posters and reference images, behind one small interface.

Keys look like `videos/<id>.mp4`. Writes are atomic: a blob is either absent or complete, never half-written.
`LocalBlobStore` keeps blobs in the data folder; `S3BlobStore` in an S3-compatible bucket (AWS, SeaweedFS, MinIO…),
where a PUT or a completed multipart upload is atomic by nature.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from veo31.config import Settings
from veo31.errors import ConfigurationError, NotFoundError, StorageError

S3Client = Any  # boto3's client class is generated at run time
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)+$")
CHUNK = 1024 * 1024


def check_key(key: str) -> str:
    if not _KEY.match(key) or ".." in key:
        raise ValueError(f"not a blob key: {key!r}")
    return key


class BlobStore(Protocol):
    description: str

    def put_file(self, key: str, source: Path) -> None:
        """Move a finished local file into the store under `key`, atomically; `source` is gone afterwards."""

    def put_bytes(self, key: str, data: bytes) -> None: ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int:
        """The blob's size in bytes; NotFoundError if it is missing."""

    def read_bytes(self, key: str) -> bytes: ...

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes `start`..`end` (inclusive) in chunks; NotFoundError before the first chunk if it is missing."""

    def get_file(self, key: str, target: Path) -> None:
        """Copy the blob into a local file (created or replaced)."""

    def local_file(self, key: str) -> Path | None:
        """A path the web server can send from directly, or None when the store is not a local folder."""

    def presigned_url(self, key: str, *, seconds: int, filename: str | None, inline: bool, media_type: str) -> str:
        """A short-lived link straight to the blob (S3 only)."""

    def delete(self, key: str) -> None: ...

    def scratch_dir(self) -> Path:
        """A local folder for partial downloads; for the data folder it is on the same filesystem, so the final
        move is a rename."""

    def problem(self) -> str | None:
        """None when the store answers; otherwise what is wrong, in words a person can act on."""


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / ".partial").mkdir(exist_ok=True)
        self.description = f"the data folder ({self.root})"

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
            source.unlink(missing_ok=True)

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

    def _existing(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise NotFoundError(f"{key} is not in storage")
        return path

    def size(self, key: str) -> int:
        return self._existing(key).stat().st_size

    def read_bytes(self, key: str) -> bytes:
        return self._existing(key).read_bytes()

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        handle = self._existing(key).open("rb")
        return _file_chunks(handle, start, end)

    def get_file(self, key: str, target: Path) -> None:
        shutil.copyfile(self._existing(key), target)

    def local_file(self, key: str) -> Path | None:
        return self._existing(key)

    def presigned_url(self, key: str, *, seconds: int, filename: str | None, inline: bool, media_type: str) -> str:
        raise NotImplementedError("the data folder has no presigned links; its files are sent directly")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def scratch_dir(self) -> Path:
        return self.root / ".partial"

    def problem(self) -> str | None:
        if not os.access(self.root, os.W_OK):
            return f"{self.root} is not writable"
        return None


def _file_chunks(handle: Any, start: int, end: int) -> Iterator[bytes]:
    with handle:
        handle.seek(start)
        left = end - start + 1
        while left > 0 and (chunk := handle.read(min(CHUNK, left))):
            left -= len(chunk)
            yield chunk


class S3BlobStore:
    """Blobs in `s3://bucket/prefix`. Every call is blocking (boto3): the pipeline and the API call it in threads."""

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        prefix: str,
        scratch: Path,
        *,
        signer: S3Client | None = None,
        endpoint: str | None = None,
    ) -> None:
        self.client = client
        self.signer = signer or client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._scratch = scratch
        scratch.mkdir(parents=True, exist_ok=True)
        location = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self.description = f"{location} at {endpoint}" if endpoint else location

    def _name(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _call(self, action: str, key: str | None, call: Any, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return call(Bucket=self.bucket, **({"Key": self._name(key)} if key else {}), **kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "unknown"))
            if code in ("404", "NoSuchKey", "NotFound") and key:
                raise NotFoundError(f"{key} is not in storage") from None
            raise StorageError(_describe(action, self.bucket, code)) from None
        except BotoCoreError as exc:
            raise StorageError(f"could not {action} in S3 bucket {self.bucket}: {type(exc).__name__}") from None

    def put_file(self, key: str, source: Path) -> None:
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError

        try:
            self.client.upload_file(str(source), self.bucket, self._name(key))
        except (S3UploadFailedError, BotoCoreError) as exc:
            raise StorageError(f"could not store {key} in S3 bucket {self.bucket}: {type(exc).__name__}") from None
        source.unlink(missing_ok=True)

    def put_bytes(self, key: str, data: bytes) -> None:
        self._call("store a blob", key, self.client.put_object, Body=data)

    def exists(self, key: str) -> bool:
        try:
            self._call("look up a blob", key, self.client.head_object)
        except NotFoundError:
            return False
        return True

    def size(self, key: str) -> int:
        return int(self._call("look up a blob", key, self.client.head_object)["ContentLength"])

    def read_bytes(self, key: str) -> bytes:
        body = self._call("read a blob", key, self.client.get_object)["Body"]
        with body:
            return bytes(body.read())

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        body = self._call("read a blob", key, self.client.get_object, Range=f"bytes={start}-{end}")["Body"]
        return _body_chunks(body)

    def get_file(self, key: str, target: Path) -> None:
        size = self.size(key)
        with target.open("wb") as sink:
            for chunk in self.read_range(key, 0, size - 1) if size else ():
                sink.write(chunk)

    def local_file(self, key: str) -> Path | None:
        return None

    def presigned_url(self, key: str, *, seconds: int, filename: str | None, inline: bool, media_type: str) -> str:
        disposition = "inline" if inline else "attachment"
        if filename:
            disposition += f"; filename*=UTF-8''{quote(filename)}"
        params = {
            "Bucket": self.bucket,
            "Key": self._name(key),
            "ResponseContentType": media_type,
            "ResponseContentDisposition": disposition,
        }
        return str(self.signer.generate_presigned_url("get_object", Params=params, ExpiresIn=seconds))

    def delete(self, key: str) -> None:
        self._call("delete a blob", key, self.client.delete_object)

    def scratch_dir(self) -> Path:
        return self._scratch

    def problem(self) -> str | None:
        try:
            self._call("reach the bucket", None, self.client.head_bucket)
        except StorageError as error:
            return error.message
        return None


def _body_chunks(body: Any) -> Iterator[bytes]:
    with body:
        yield from body.iter_chunks(CHUNK)


def _describe(action: str, bucket: str, code: str) -> str:
    hints = {
        "403": "the keys are refused (check VEO31_S3_ACCESS_KEY_ID / VEO31_S3_SECRET_ACCESS_KEY)",
        "AccessDenied": "the keys are refused (check VEO31_S3_ACCESS_KEY_ID / VEO31_S3_SECRET_ACCESS_KEY)",
        "SignatureDoesNotMatch": "the secret key does not match (check VEO31_S3_SECRET_ACCESS_KEY)",
        "InvalidAccessKeyId": "the access key is unknown (check VEO31_S3_ACCESS_KEY_ID)",
        "NoSuchBucket": "the bucket does not exist (create it, or fix VEO31_STORAGE_URL)",
    }
    if code == "404" and action == "reach the bucket":
        return f"S3 bucket {bucket} does not exist (create it, or fix VEO31_STORAGE_URL)"
    return f"could not {action} in S3 bucket {bucket}: {hints.get(code, f'S3 answered {code}')}"


def open_blob_store(settings: Settings) -> BlobStore:
    """The data folder by default; the S3 bucket when VEO31_STORAGE_URL is s3://bucket/prefix."""
    if not settings.storage_url:
        return LocalBlobStore(settings.data_dir / "blobs")
    bucket, _, prefix = settings.storage_url.removeprefix("s3://").partition("/")
    client = _s3_client(settings, settings.s3_endpoint_url)
    signer = _s3_client(settings, settings.s3_public_endpoint_url) if settings.s3_public_endpoint_url else None
    scratch = settings.data_dir / "partial"
    return S3BlobStore(client, bucket, prefix, scratch, signer=signer, endpoint=settings.s3_endpoint_url)


def _s3_client(settings: Settings, endpoint: str | None) -> S3Client:
    try:
        import boto3
        from botocore.config import Config
    except ImportError:  # pragma: no cover - boto3 is a dependency; this guards a broken install
        raise ConfigurationError("VEO31_STORAGE_URL is s3://… but boto3 is not installed") from None
    keys: dict[str, str] = {}
    if settings.s3_access_key_id and settings.s3_secret_access_key:
        keys = {
            "aws_access_key_id": settings.s3_access_key_id.get_secret_value(),
            "aws_secret_access_key": settings.s3_secret_access_key.get_secret_value(),
        }
    config = Config(
        # Custom endpoints (SeaweedFS, MinIO, a proxy) rarely have a DNS name per bucket: address by path there.
        s3={"addressing_style": "path" if endpoint else "auto"},
        retries={"max_attempts": 4, "mode": "standard"},
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=50,
        signature_version="s3v4",
    )
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, region_name=settings.s3_region, config=config, **keys
    )
