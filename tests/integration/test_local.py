"""The local renderer as a provider, through the HTTP API of a server with no provider key: the embedded default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServeProcess
from tests.integration.conftest import Api, free_port
from veo31.media.probe import probe_video

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """`veo31 serve` with no provider key, in a process of its own (one pipeline per process: the session's
    in-process server has this one's)."""
    data_dir = tmp_path_factory.mktemp("veo31-local")
    quick = {"VEO31_WAKE_INTERVAL_SECONDS": "0.05", "VEO31_QUEUE_POLL_SECONDS": "0.2"}
    server = ServeProcess(quick, free_port(), str(data_dir))
    server.start()
    try:
        yield Api(server.url, data_dir)
    finally:
        server.stop()


def photo(name: str = "product-in-scene.jpg") -> bytes:
    return (FIXTURES / name).read_bytes()


def test_no_key_means_the_local_renderer(offline: Api, tmp_path: Path) -> None:
    listing = offline.http.get("/v1/providers").json()
    assert listing["auto"] == "local"
    started = offline.create(
        files=[photo(), photo("product-on-white.jpg")], product_name="Lamp", duration_seconds=4, fps=24
    )
    assert started["provider"] == "local" and started["provider_label"] == "Local renderer"
    done = offline.wait(started["id"], timeout=90)
    assert done["status"] == "completed", done["error"]
    assert offline.statuses(done) == [
        "queued",
        "preparing",
        "submitted",
        "generating",
        "retrieving",
        "checking",
        "completed",
    ]
    target = tmp_path / "v.mp4"
    target.write_bytes(httpx.get(done["video_url"]).content)
    info = probe_video(target)
    assert (info.width, info.height, info.fps, info.has_audio) == (1280, 720, 24.0, True)
    assert abs(info.duration - 4) <= 1 / 24
    assert done["upgrade_options"] == [], "the local renderer has no upgrades"


def test_vertical_1080p(offline: Api) -> None:
    done = offline.wait(
        offline.create(files=[photo()], aspect_ratio="9:16", resolution="1080p", duration_seconds=2)["id"], timeout=90
    )
    assert done["status"] == "completed", done["error"]
    assert (done["video"]["width"], done["video"]["height"], done["video"]["fps"]) == (1080, 1920, 30.0)


@pytest.mark.parametrize(
    "fields,files,words",
    [
        ({"duration_seconds": 1}, 1, "makes 2–30 s videos with 1–3 product photos, not 1 s"),
        ({"duration_seconds": 31}, 1, "makes 2–30 s videos with 1–3 product photos, not 31 s"),
        ({"resolution": "4k"}, 1, "makes 720p or 1080p videos, not 4k"),
        ({"fps": 25}, 1, "at 24 or 30 frames per second, not 25"),
        ({}, 0, "cannot make a video from text alone: add 1–3 product photos"),
        ({}, 4, "at most 3"),
        ({"provider": "kie"}, 1, "KIE_API_KEY"),
    ],
)
def test_what_it_cannot_do_is_refused_before_anything_starts(
    offline: Api, fields: dict, files: int, words: str
) -> None:
    before = offline.http.get("/v1/generations").json()["items"]
    refused = offline.create(files=[photo()] * files if files else None, expect=422, **fields)
    assert words in refused["detail"]
    assert offline.http.get("/v1/generations").json()["items"] == before


def test_a_render_cut_short_by_a_crash_is_made_again_after_the_restart(tmp_path: Path) -> None:
    server = ServeProcess({"VEO31_LOCAL_DISABLED": "false"}, free_port(), str(tmp_path / "data"))
    server.start()
    try:
        http = httpx.Client(base_url=server.url, timeout=30)
        started = http.post(
            "/v1/generations",
            files=[("images", ("p.jpg", photo(), "image/jpeg"))],
            data={"duration_seconds": "12", "resolution": "1080p", "model_tier": "quality"},
        ).json()
        api = Api(server.url, tmp_path)
        api.http = http
        api.wait(started["id"], {"generating"}, timeout=60)
        server.kill()  # kill -9 in the middle of the render
        renders = list((tmp_path / "data" / "local-renders").iterdir())
        assert [path.name for path in renders if (path / "video.mp4").exists()] == [], "it was cut short"
        server.start()
        done = api.wait(started["id"], timeout=180)
        assert done["status"] == "completed", done["error"]
        assert done["video"]["duration"] == 12.0 and done["video"]["height"] == 1080
        assert len(renders) == 1 and done["provider_task_id"] == renders[0].name, "the same job, not a second"
    finally:
        server.stop()
