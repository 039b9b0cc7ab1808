"""One blob-store suite over both backends: the data folder and a real S3 server (SeaweedFS on loopback).

What the pipeline and the video routes rely on: writes are whole or absent, reads by byte range, a missing blob is
NotFoundError (→ 404), and a store that cannot be reached says which setting to fix without showing a key."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

import pytest

from tests.storage import SECRET_KEY, SeaweedFS
from veo31.config import load_settings
from veo31.errors import NotFoundError, StorageError
from veo31.store.blobs import BlobStore, S3BlobStore, open_blob_store


@pytest.fixture(params=["data-folder", "s3"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "data-folder":
        return open_blob_store(load_settings(data_dir=tmp_path))
    s3: SeaweedFS = request.getfixturevalue("seaweedfs")
    return open_blob_store(load_settings(data_dir=tmp_path, **s3.settings(f"suite-{secrets.token_hex(4)}")))


def test_bytes_go_in_and_come_out(blobs: BlobStore) -> None:
    assert not blobs.exists("images/a.png")
    blobs.put_bytes("images/a.png", b"\x89PNG fake")
    assert blobs.exists("images/a.png")
    assert blobs.size("images/a.png") == 9
    assert blobs.read_bytes("images/a.png") == b"\x89PNG fake"
    assert blobs.problem() is None


def test_a_large_file_is_moved_in_whole(blobs: BlobStore, tmp_path: Path) -> None:
    content = os.urandom(9 * 1024 * 1024 + 17)  # past boto3's multipart threshold (8 MB)
    source = blobs.scratch_dir() / "upload.mp4"
    source.write_bytes(content)
    blobs.put_file("videos/big.mp4", source)
    assert not source.exists(), "the scratch copy is gone once stored"
    assert blobs.size("videos/big.mp4") == len(content)
    whole = b"".join(blobs.read_range("videos/big.mp4", 0, len(content) - 1))
    assert hashlib.sha256(whole).digest() == hashlib.sha256(content).digest()
    copy = tmp_path / "copy.mp4"
    blobs.get_file("videos/big.mp4", copy)
    assert copy.read_bytes() == content


def test_byte_ranges(blobs: BlobStore) -> None:
    content = bytes(range(256)) * 8
    blobs.put_bytes("videos/r.mp4", content)
    assert b"".join(blobs.read_range("videos/r.mp4", 10, 19)) == content[10:20]
    assert b"".join(blobs.read_range("videos/r.mp4", 2000, 2047)) == content[2000:]
    assert b"".join(blobs.read_range("videos/r.mp4", 5, 5)) == content[5:6]


def test_a_second_write_replaces_the_first(blobs: BlobStore) -> None:
    blobs.put_bytes("videos/x.jpg", b"first")
    blobs.put_bytes("videos/x.jpg", b"second, longer")
    assert blobs.read_bytes("videos/x.jpg") == b"second, longer"


def test_a_missing_blob_is_not_found(blobs: BlobStore, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="videos/none.mp4 is not in storage"):
        blobs.size("videos/none.mp4")
    with pytest.raises(NotFoundError):
        blobs.read_bytes("videos/none.mp4")
    with pytest.raises(NotFoundError):
        blobs.read_range("videos/none.mp4", 0, 10)
    with pytest.raises(NotFoundError):
        blobs.get_file("videos/none.mp4", tmp_path / "never.mp4")
    blobs.put_bytes("videos/gone.mp4", b"soon gone")
    blobs.delete("videos/gone.mp4")
    blobs.delete("videos/gone.mp4")  # deleting what is not there is fine
    assert not blobs.exists("videos/gone.mp4")


@pytest.mark.parametrize("key", ["../etc/passwd", "videos/../../x", "/abs/path", "videos/", "Videos/a.mp4"])
def test_a_key_that_could_escape_is_refused(blobs: BlobStore, key: str) -> None:
    with pytest.raises(ValueError, match="not a blob key"):
        blobs.put_bytes(key, b"x")


def test_refused_keys_are_named_never_shown(seaweedfs: SeaweedFS, tmp_path: Path) -> None:
    settings = {**seaweedfs.settings("refused"), "s3_secret_access_key": "not-the-secret-" + secrets.token_hex(8)}
    blobs = open_blob_store(load_settings(data_dir=tmp_path, **settings))
    problem = blobs.problem()
    assert problem and "VEO31_S3_SECRET_ACCESS_KEY" in problem
    with pytest.raises(StorageError) as caught:
        blobs.put_bytes("videos/a.mp4", b"x")
    assert settings["s3_secret_access_key"] not in str(caught.value) and SECRET_KEY not in str(caught.value)
    assert not open_blob_store(load_settings(data_dir=tmp_path, **seaweedfs.settings("refused"))).exists(
        "videos/a.mp4"
    ), "a refused write leaves nothing behind"


def test_a_missing_bucket_and_a_dead_endpoint_say_so(seaweedfs: SeaweedFS, tmp_path: Path) -> None:
    missing = {**seaweedfs.settings("x"), "storage_url": "s3://no-such-bucket-here/x"}
    assert "does not exist" in (open_blob_store(load_settings(data_dir=tmp_path, **missing)).problem() or "")
    dead = {**seaweedfs.settings("x"), "s3_endpoint_url": "http://127.0.0.1:9"}
    store = open_blob_store(load_settings(data_dir=tmp_path, **dead))
    assert isinstance(store, S3BlobStore)
    with pytest.raises(StorageError, match="could not store videos/a.mp4"):
        source = tmp_path / "a.mp4"
        source.write_bytes(b"x")
        store.put_file("videos/a.mp4", source)
    assert source.exists(), "a failed upload keeps the local file, so nothing is lost"
