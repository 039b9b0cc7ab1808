"""A deliverable survives `kill -9` mid-render: the real `veo31 serve` is killed while it makes a channel version;
restarted, it makes it again from the stored video and finishes — nothing is paid, nothing is left half-made."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.clips import PHOTO
from tests.conftest import KIE_TEST_KEY, ServeProcess
from tests.integration.conftest import free_port, kie_process, settled
from veo31.media.probe import probe_video


def test_a_deliverable_killed_mid_render_is_made_after_the_restart(tmp_path: Path) -> None:
    with kie_process(tmp_path, clip_seconds=8, generation_seconds=1) as kie:
        server = ServeProcess(
            {
                "KIE_API_KEY": KIE_TEST_KEY,
                "KIE_BASE_URL": kie,
                "KIE_UPLOAD_BASE_URL": kie,
                "VEO31_FIRST_POLL_SECONDS": "0.5",
                "VEO31_MAX_POLL_SECONDS": "0.5",
                "VEO31_QUEUE_POLL_SECONDS": "0.2",
            },
            free_port(),
            str(tmp_path / "data"),
        )
        server.start()
        try:
            files = [("images", ("mug.jpg", PHOTO.read_bytes(), "image/jpeg"))]
            made = httpx.post(f"{server.url}/v1/generations", files=files, data={"product_name": "Mug"}, timeout=30)
            source = settled(server.url, made.json()["id"])
            assert source["status"] == "completed" and source["quality"]["passed"], source["quality"]
            asked = httpx.post(
                f"{server.url}/v1/generations/{source['id']}/deliverables", json={"presets": ["landscape"]}
            )
            [deliverable] = asked.json()["deliverables"]
            deadline = time.monotonic() + 60
            while httpx.get(f"{server.url}/v1/generations/{deliverable['id']}").json()["status"] != "preparing":
                assert time.monotonic() < deadline, "the render never started"
                time.sleep(0.03)
            server.kill()  # -9, mid-render
            server.start()
            done = settled(server.url, deliverable["id"])
            calls = httpx.get(f"{kie}/_emulator/state", timeout=10).json()["calls"]
        finally:
            server.stop()
    assert done["status"] == "completed", done["history"]
    assert calls["generate"] == 1, "a deliverable is made from the stored video: the provider is not asked again"
    info = probe_video(tmp_path / "data" / "blobs" / "deliverables" / f"{deliverable['id']}.mp4")
    assert (info.width, info.height, info.has_audio) == (1920, 1080, True)
    leftovers = [p.name for p in (tmp_path / "data").rglob("*") if p.is_file() and deliverable["id"] in p.name]
    assert leftovers == [f"{deliverable['id']}.mp4"], "no half-made file left behind"
