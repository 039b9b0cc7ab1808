"""An upgrade never strands a generation: one that a previous version started on the first workflow shape
(`veo31.generation`: prepare → submit → start waiting → wait → check → retrieve) and that was interrupted there
resumes with that shape after the upgrade, paid once, while new generations take the current shape.

The previous version is played by what it did: the generation's row, and its workflow enqueued by that name on
the provider's queue (DBOS's own client, as a process of that version would have). Then `kill -9` while it waits
on the provider, and a restart of today's `veo31 serve`.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from dbos import DBOSClient

from tests.conftest import KIE_TEST_KEY, ServeProcess
from tests.databases import database_for
from tests.integration.conftest import free_port
from veo31 import __version__
from veo31.config import load_settings
from veo31.domain import GenerationSpec
from veo31.media.probe import probe_video
from veo31.pipeline.lifecycle import queue_name
from veo31.store import generations as store
from veo31.store.db import create_db_engine


def wait_for(url: str, generation_id: str, status: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        generation = httpx.get(f"{url}/v1/generations/{generation_id}", timeout=10).json()
        if generation["status"] == status:
            return generation
        assert time.monotonic() < deadline, f"still {generation['status']}: {generation['history']}"
        time.sleep(0.1)


def test_a_generation_left_on_the_first_workflow_shape_resumes_after_the_upgrade(
    emulator_process: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    port = free_port()
    server = ServeProcess(
        {
            "KIE_API_KEY": KIE_TEST_KEY,
            "KIE_BASE_URL": emulator_process,
            "KIE_UPLOAD_BASE_URL": emulator_process,
            "VEO31_FIRST_POLL_SECONDS": "1",  # no public URL: no callback, the wait ends by asking
            "VEO31_MAX_POLL_SECONDS": "1",
            "VEO31_QUEUE_POLL_SECONDS": "0.2",
        },
        port,
        str(data),
    )
    server.start()
    settings = load_settings(database_url=database_for(data), data_dir=data)
    engine = create_db_engine(settings.resolved_database_url)
    client = DBOSClient(system_database_url=settings.system_database_url, application_name="veo31")
    try:
        old, _ = store.create_generation(
            engine, spec=GenerationSpec(product_name="Left in flight"), references=[], provider="kie", mode="text"
        )
        client.enqueue(
            {
                "queue_name": queue_name("kie"),
                "workflow_name": "veo31.generation",
                "workflow_id": old.id,
                "app_version": __version__,
            },
            old.id,
        )
        wait_for(server.url, old.id, "generating")  # submitted; the emulator takes 3 s
        server.kill()
        server.start()
        finished = wait_for(server.url, old.id, "completed")
        new = httpx.post(f"{server.url}/v1/generations", json={"product_name": "Made today"}, timeout=30).json()
        made_today = wait_for(server.url, new["id"], "completed")
        calls = httpx.get(f"{emulator_process}/_emulator/state", timeout=10).json()["calls"]
        shapes = {gid: client.retrieve_workflow(gid).get_status() for gid in (old.id, new["id"])}
    finally:
        server.stop()
        client.destroy()
        engine.dispose()
    statuses = [change["status"] for change in finished["history"]]
    assert statuses == ["queued", "preparing", "submitted", "generating", "retrieving", "completed"], statuses
    assert calls["generate"] == 2, "the interrupted generation was submitted once, and today's once"
    assert (shapes[old.id].name, shapes[old.id].status) == ("veo31.generation", "SUCCESS")
    assert (shapes[new["id"]].name, shapes[new["id"]].status) == ("veo31.generation.v2", "SUCCESS")
    assert [c["status"] for c in made_today["history"]] == statuses, "the new shape tells the same story"
    for generation in (finished, made_today):
        assert probe_video(data / "blobs" / "videos" / f"{generation['id']}.mp4").frames > 0
