"""A finished video served from each store a `veo31 serve` can use: the data folder, S3 streamed through veo31, and
S3 by presigned redirect. Players seek with Range, downloads get a file name, a lost blob is a 404 with words."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import KIE_TEST_KEY, KieEmulatorHandle, ServeProcess, png_bytes
from tests.integration.conftest import FINAL, free_port
from tests.storage import SeaweedFS
from veo31.config import load_settings
from veo31.media.probe import probe_video
from veo31.store.blobs import open_blob_store

BACKENDS = ["data-folder", "s3-stream", "s3-redirect"]


class Served:
    def __init__(self, process: ServeProcess, storage: dict[str, str], data_dir: Path) -> None:
        self.process = process
        self.http = httpx.Client(base_url=process.url, timeout=60)
        self.storage = storage
        self.data_dir = data_dir

    def blobs(self) -> Any:
        return open_blob_store(load_settings(data_dir=self.data_dir, **self.storage))

    def finished(self) -> dict[str, Any]:
        created = self.http.post(
            "/v1/generations", files=[("images", ("p.png", png_bytes(), "image/png"))], data={"product_name": "Mug"}
        )
        assert created.status_code == 201, created.text
        deadline = time.monotonic() + 120
        while (body := self.http.get(f"/v1/generations/{created.json()['id']}").json())["status"] not in FINAL:
            assert time.monotonic() < deadline, body["history"]
            time.sleep(0.05)
        assert body["status"] == "completed", body["error"]
        return body


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, kie_server: KieEmulatorHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp(f"delivery-{request.param}")
    storage: dict[str, str] = {}
    env = {
        "KIE_API_KEY": KIE_TEST_KEY,
        "KIE_BASE_URL": kie_server.url,
        "KIE_UPLOAD_BASE_URL": kie_server.url,
        "VEO31_FIRST_POLL_SECONDS": "0.3",
    }
    if request.param.startswith("s3"):
        s3: SeaweedFS = request.getfixturevalue("seaweedfs")
        storage = s3.settings(f"delivery-{secrets.token_hex(4)}")
        env |= {f"VEO31_{name.upper()}": value for name, value in storage.items()}
        env["VEO31_S3_DELIVERY"] = request.param.removeprefix("s3-")
    process = ServeProcess(env, free_port(), str(data_dir))
    process.start()
    try:
        yield Served(process, storage, data_dir)
    finally:
        process.stop()


@pytest.fixture(scope="module")
def video(served: Served, kie_server: KieEmulatorHandle) -> dict[str, Any]:
    kie_server.reset()
    kie_server.configure(generation_seconds=0.2, clip_seconds=1)
    return served.finished()


def get(served: Served, path: str, **headers: str) -> httpx.Response:
    """GET as a browser would: follow a redirect to the bucket, keeping the Range header."""
    return served.http.get(path, headers=headers, follow_redirects=True)


def test_the_video_plays_whole_and_decodes(served: Served, video: dict[str, Any], tmp_path: Path) -> None:
    response = get(served, f"/v1/generations/{video['id']}/video")
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    assert int(response.headers["content-length"]) == len(response.content) == video["video"]["bytes"]
    saved = tmp_path / "v.mp4"
    saved.write_bytes(response.content)
    assert probe_video(saved).frames > 0


def test_players_seek_with_range(served: Served, video: dict[str, Any]) -> None:
    path = f"/v1/generations/{video['id']}/video"
    whole = get(served, path).content
    head = get(served, path, range="bytes=0-99")
    assert head.status_code == 206
    assert head.content == whole[:100]
    assert head.headers["content-range"] == f"bytes 0-99/{len(whole)}"
    middle = get(served, path, range="bytes=1000-")
    assert middle.status_code == 206 and middle.content == whole[1000:]
    tail = get(served, path, range="bytes=-50")
    assert tail.status_code == 206 and tail.content == whole[-50:]
    past = get(served, path, range=f"bytes={len(whole)}-")
    assert past.status_code == 416


def test_download_names_the_file_and_the_poster_is_an_image(served: Served, video: dict[str, Any]) -> None:
    response = get(served, f"/v1/generations/{video['id']}/video?download=true")
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment") and "mug-" in disposition and ".mp4" in disposition
    poster = get(served, f"/v1/generations/{video['id']}/poster.jpg")
    assert poster.status_code == 200 and poster.content[:3] == b"\xff\xd8\xff"


def test_redirects_only_when_asked(served: Served, video: dict[str, Any]) -> None:
    response = served.http.get(f"/v1/generations/{video['id']}/video")
    if served.storage and "redirect" in served.process.env.get("VEO31_S3_DELIVERY", ""):
        assert response.status_code == 307
        assert response.headers["location"].startswith(served.storage["s3_endpoint_url"])
        assert "X-Amz-Signature" in response.headers["location"]
        assert response.headers["cache-control"] == "private, no-store", "the link expires; never cache it"
    else:
        assert response.status_code == 200


def test_readiness_reports_the_store(served: Served, video: dict[str, Any]) -> None:
    ready = served.http.get("/readyz").json()
    assert ready["checks"]["storage"] == "ok" and ready["status"] == "ready"


def test_a_lost_blob_is_a_404_with_words(served: Served, video: dict[str, Any]) -> None:
    """Last: it deletes the module's video behind veo31's back."""
    served.blobs().delete(f"videos/{video['id']}.mp4")
    response = served.http.get(f"/v1/generations/{video['id']}/video", follow_redirects=False)
    if response.status_code == 307:  # a presigned link cannot know; the bucket answers 404 itself
        response = httpx.get(response.headers["location"])
        assert response.status_code == 404
        return
    assert response.status_code == 404
    assert "is not in storage" in response.json()["detail"]
