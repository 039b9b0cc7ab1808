"""A provider declared in one file under tests/ (the slideshow, loaded with VEO31_PROVIDER_PLUGINS) through a real
`veo31 serve`: listed by /v1/providers with its capabilities, priced by /v1/estimate, chosen by `auto` when the
order names it first, and its video made, stored and verified like any other; `veo31 doctor` checks it too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.helpers import run
from tests.conftest import ServeProcess, png_bytes
from tests.integration.conftest import Api, free_port
from tests.slideshow_provider import PLUGIN
from veo31.media.probe import probe_video

ROOT = str(Path(__file__).resolve().parents[2])
WITH_PLUGIN = {"VEO31_PROVIDER_PLUGINS": PLUGIN, "VEO31_PROVIDER_ORDER": "slideshow,local", "PYTHONPATH": ROOT}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    data_dir = tmp_path_factory.mktemp("veo31-plugin")
    quick = {"VEO31_WAKE_INTERVAL_SECONDS": "0.05", "VEO31_QUEUE_POLL_SECONDS": "0.2"}
    process = ServeProcess({**quick, **WITH_PLUGIN}, free_port(), str(data_dir))
    process.start()
    try:
        yield Api(process.url, data_dir)
    finally:
        process.stop()


def test_listed_and_priced_like_a_built_in_provider(server: Api) -> None:
    listing = server.http.get("/v1/providers").json()
    assert listing["auto"] == "slideshow"
    slideshow = next(item for item in listing["providers"] if item["name"] == "slideshow")
    assert slideshow["label"] == "Test slideshow" and slideshow["available"] is True
    assert slideshow["capabilities"]["durations"] == [4, 8]
    quote = server.http.get("/v1/estimate", params={"provider": "slideshow", "duration_seconds": 4}).json()
    assert quote["possible"] and quote["provider_label"] == "Test slideshow" and quote["estimate_usd"] == 0.04
    refused = server.http.get("/v1/estimate", params={"provider": "slideshow", "duration_seconds": 6}).json()
    assert not refused["possible"] and "Test slideshow" in refused["reason"]


def test_auto_makes_the_video_with_it(server: Api, tmp_path: Path) -> None:
    red, blue = png_bytes(colour=(220, 30, 30)), png_bytes(colour=(30, 30, 220))
    started = server.create(files=[red, blue], prompt="From red to blue", mode="first_last", duration_seconds=4)
    assert started["provider"] == "slideshow" and started["provider_label"] == "Test slideshow"
    done = server.wait(started["id"], timeout=60)
    assert done["status"] == "completed", done["error"]
    assert done["cost"]["reported_usd"] == 0.04, "a finished video keeps its price (at list price)"
    target = tmp_path / "v.mp4"
    target.write_bytes(httpx.get(done["video_url"]).content)
    info = probe_video(target)
    assert (info.width, info.height) == (256, 144) and abs(info.duration - 4) <= 0.25


def test_doctor_checks_it(tmp_path: Path) -> None:
    result = run("doctor", env={**WITH_PLUGIN, "VEO31_DATA_DIR": str(tmp_path / "data")}, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Test slideshow" in result.stdout and "ready (made for the tests)" in result.stdout
    assert "auto uses Test slideshow" in result.stdout
