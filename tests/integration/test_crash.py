"""Crash safety: `kill -9` the server again and again while 50 generations run; restart it each time.

Every paid task must become exactly one completed, decodable video, and nothing may be submitted twice. A process
killed while its paid request was still leaving is resolved too: the request's last byte is held back until the
"maybe sent" marker is written (providers/_http.LastByteHeld), so a kill before the marker left a
request the provider never received whole (the emulator counts it as `generate:cut_off`, makes no task) and the
restart sends it again. The one moment left undecidable — after the marker's commit, before the last byte's
socket write — is microseconds wide; a generation caught there must have cost nothing (no task at the emulator)
and may be the only exception. The emulator runs as its own process, so it outlives each crash.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import KIE_TEST_KEY, ServeProcess
from tests.integration.conftest import free_port
from veo31.media.probe import probe_video

GENERATIONS = 50
MIN_KILLS = 20


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_repeated_kill_9_loses_nothing_and_pays_once(emulator_process: str, tmp_path: Path) -> None:
    port = free_port()
    server = ServeProcess(
        {
            "KIE_API_KEY": KIE_TEST_KEY,
            "KIE_BASE_URL": emulator_process,
            "KIE_UPLOAD_BASE_URL": emulator_process,
            "VEO31_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "VEO31_FIRST_POLL_SECONDS": "1",
            "VEO31_MAX_POLL_SECONDS": "2",
            "VEO31_WAKE_INTERVAL_SECONDS": "0.05",
            "VEO31_QUEUE_POLL_SECONDS": "0.2",
        },
        port,
        str(tmp_path / "data"),
    )
    server.start()
    ids: dict[int, str] = {}
    creating = threading.Thread(target=create_all, args=(server.url, ids), daemon=True)
    creating.start()
    rng = random.Random(20261125)
    kills = 0
    try:
        while kills < MIN_KILLS + 2:
            time.sleep(rng.uniform(0.2, 2.5))  # any moment: mid-request, mid-submit, mid-download
            server.kill()
            kills += 1
            server.start()
        creating.join(120)
        deadline = time.monotonic() + 300
        while not all_done(server.url, emulator_process, ids) and time.monotonic() < deadline:
            time.sleep(0.5)
        final = [httpx.get(f"{server.url}/v1/generations/{gid}", timeout=30).json() for gid in ids.values()]
    finally:
        server.stop()
    assert kills >= MIN_KILLS
    assert len(ids) == GENERATIONS
    state = httpx.get(f"{emulator_process}/_emulator/state").json()
    paid = {task["params"]["prompt"].split(" stands")[0].removeprefix("The ") for task in state["tasks"]}
    completed = [g for g in final if g["status"] == "completed"]
    undecided = [g for g in final if g["status"] != "completed"]
    assert len(paid) == len(state["tasks"]), "no generation was submitted twice"
    assert {g["spec"]["product_name"] for g in completed} == paid, "every paid task became one completed video"
    assert len(undecided) <= 1, [(g["status"], g["history"][-1]) for g in undecided]
    for generation in undecided:
        assert "outcome is unknown" in (generation["history"][-1]["detail"] or "")
        assert generation["spec"]["product_name"] not in paid, "it cost nothing, so retrying it is safe"
    assert state["calls"]["generate"] <= GENERATIONS, "whole generate requests: one per generation at most"
    videos = sorted((tmp_path / "data" / "blobs" / "videos").glob("*.mp4"))
    assert len(videos) == len(completed)
    for video in videos:
        assert probe_video(video).frames > 0


def create_all(url: str, ids: dict[int, str]) -> None:
    """Like a careful client: each request carries an Idempotency-Key and is repeated until it is answered."""
    for number in range(GENERATIONS):
        while number not in ids:
            try:
                response = httpx.post(
                    f"{url}/v1/generations",
                    json={"product_name": f"crash-item-{number:03d}"},
                    headers={"Idempotency-Key": f"crash-{number}"},
                    timeout=10,
                )
                if response.status_code in (200, 201):
                    ids[number] = response.json()["id"]
            except httpx.TransportError:
                time.sleep(0.2)
        time.sleep(0.05)


def all_done(url: str, emulator: str, ids: dict[int, str]) -> bool:
    """Every generation completed — or left waiting on an uncertain send that never reached the emulator, which no
    callback will ever resolve (waiting out its deadline would only slow the test)."""
    if len(ids) < GENERATIONS:
        return False
    try:
        page = httpx.get(f"{url}/v1/generations", params={"limit": 100}, timeout=10).json()
        tasks = httpx.get(f"{emulator}/_emulator/state", timeout=10).json()["tasks"]
    except (httpx.TransportError, ValueError):
        return False
    paid = {task["params"]["prompt"] for task in tasks}
    for item in page["items"]:
        if item["id"] not in ids.values() or item["status"] == "completed":
            continue
        detail = (item["history"][-1]["detail"] if item.get("history") else "") or ""
        if "outcome is unknown" not in detail or any(item["spec"]["product_name"] in prompt for prompt in paid):
            return False
    return {item["id"] for item in page["items"]} >= set(ids.values())
