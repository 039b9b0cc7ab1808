"""An upgrade never strands a generation: one that a previous version started on the first workflow shape
(`veo31.generation`: prepare → submit → start waiting → wait → check → retrieve) and that was interrupted there
resumes with that shape after the upgrade, paid once, while new generations take the current shape.

The previous version is played by what it did: the generation's row, and its workflow enqueued by that name on
the provider's queue (DBOS's own client, as a process of that version would have). Then `kill -9` while it waits
on the provider, and a restart of today's `veo31 serve`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from dbos import DBOSClient
from sqlalchemy import Engine

from tests.conftest import KIE_TEST_KEY
from tests.databases import database_for
from tests.integration.conftest import polling_server
from veo31 import __version__
from veo31.config import load_settings
from veo31.domain import GenerationSpec, Status
from veo31.media.probe import probe_video
from veo31.pipeline.lifecycle import queue_name
from veo31.store import changes, generations as store
from veo31.store.db import create_db_engine


def wait_for(url: str, generation_id: str, status: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        generation = httpx.get(f"{url}/v1/generations/{generation_id}", timeout=10).json()
        if generation["status"] == status:
            return generation
        assert time.monotonic() < deadline, f"still {generation['status']}: {generation['history']}"
        time.sleep(0.1)


def test_generations_left_on_older_workflow_shapes_resume_after_the_upgrade(
    emulator_process: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    server = polling_server(emulator_process, data)
    server.start()
    settings = load_settings(database_url=database_for(data), data_dir=data)
    engine = create_db_engine(settings.resolved_database_url)
    client = DBOSClient(system_database_url=settings.system_database_url, application_name="veo31")
    try:
        olds = {}
        for shape in ("veo31.generation", "veo31.generation.v2"):
            spec = GenerationSpec(product_name=f"Left in flight on {shape}")
            olds[shape], _ = store.create_generation(engine, spec=spec, references=[], provider="kie", mode="text")
            client.enqueue(
                {
                    "queue_name": queue_name("kie"),
                    "workflow_name": shape,
                    "workflow_id": olds[shape].id,
                    "app_version": __version__,
                },
                olds[shape].id,
            )
        for old in olds.values():
            wait_for(server.url, old.id, "generating")  # submitted; the emulator takes 3 s
        server.kill()
        server.start()
        finished = {shape: wait_for(server.url, old.id, "completed") for shape, old in olds.items()}
        new = httpx.post(f"{server.url}/v1/generations", json={"product_name": "Made today"}, timeout=30).json()
        made_today = wait_for(server.url, new["id"], "completed")
        calls = httpx.get(f"{emulator_process}/_emulator/state", timeout=10).json()["calls"]
        ids = [old.id for old in olds.values()] + [new["id"]]
        shapes = {gid: client.retrieve_workflow(gid).get_status() for gid in ids}
    finally:
        server.stop()
        client.destroy()
        engine.dispose()
    for shape, old in olds.items():
        statuses = [change["status"] for change in finished[shape]["history"]]
        assert statuses == ["queued", "preparing", "submitted", "generating", "retrieving", "completed"], statuses
        assert (shapes[old.id].name, shapes[old.id].status) == (shape, "SUCCESS")
        assert finished[shape]["quality"] is None, "the older shapes have no quality gate: completed as they were"
    assert calls["generate"] == 3, "each interrupted generation was submitted once, and today's once"
    assert (shapes[new["id"]].name, shapes[new["id"]].status) == ("veo31.generation.v3", "SUCCESS")
    today = [c["status"] for c in made_today["history"]]
    assert today == ["queued", "preparing", "submitted", "generating", "retrieving", "checking", "completed"], today
    assert made_today["quality"] is not None and made_today["quality"]["checks"], "today's shape checks the video"
    for generation in (*finished.values(), made_today):
        assert probe_video(data / "blobs" / "videos" / f"{generation['id']}.mp4").frames > 0


def until_made(emulator: str, task_id: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    auth = {"Authorization": f"Bearer {KIE_TEST_KEY}"}
    while True:
        answer = httpx.get(f"{emulator}/api/v1/veo/record-info", params={"taskId": task_id}, headers=auth).json()
        if answer["data"]["successFlag"] == 1:
            return
        assert time.monotonic() < deadline, answer
        time.sleep(0.2)


def reopened_as_a_late_fetch(engine: Engine, generation_id: str, task_id: str) -> None:
    """What a generation that timed out with its task kept, then reopened by the sweeper, looks like when its fetch
    workflow starts (`launch.start_fetch`)."""
    later = datetime.now(UTC) + timedelta(seconds=600)
    changes.record_submission(
        engine, generation_id, provider="kie", task_id=task_id, detail=task_id, deadline_at=later, generating=True
    )
    changes.record_status(engine, generation_id, Status.FAILED, "timed out", error_kind="timed_out")
    changes.bump_fetch_attempts(engine, generation_id)
    assert changes.reopen_for_fetch(engine, generation_id, "asking Kie.ai again")


def test_an_upgrade_and_a_late_fetch_left_on_their_first_shapes_finish_after_the_upgrade(
    emulator_process: str, tmp_path: Path
) -> None:
    """`veo31.upgrade` (submit the upgrade → start waiting → check → retrieve) and `veo31.fetch` (check → retrieve),
    enqueued by name as a previous version did, finish with today's server; today's upgrades take the new shape."""
    data = tmp_path / "data"
    server = polling_server(emulator_process, data)
    server.start()
    settings = load_settings(database_url=database_for(data), data_dir=data)
    engine = create_db_engine(settings.resolved_database_url)
    client = DBOSClient(system_database_url=settings.system_database_url, application_name="veo31")

    def enqueue(name: str, workflow_id: str, *args: str) -> None:
        options = {"queue_name": queue_name("kie"), "workflow_name": name, "workflow_id": workflow_id}
        client.enqueue({**options, "app_version": __version__}, *args)

    fast = {"upgrade_1080p_seconds": 1.0, "upgrade_4k_seconds": 1.0}
    assert httpx.post(f"{emulator_process}/_emulator/config", json=fast, timeout=10).status_code == 200
    try:
        made = httpx.post(f"{server.url}/v1/generations", json={"product_name": "Lamp"}, timeout=30).json()
        source = wait_for(server.url, made["id"], "completed")
        old_upgrade, _ = store.create_generation(
            engine,
            spec=GenerationSpec(product_name="Lamp", resolution="1080p"),
            references=[],
            provider="kie",
            mode="text",
            upgrade_of=source["id"],
            prompt=source["prompt"],
        )
        enqueue("veo31.upgrade", old_upgrade.id, old_upgrade.id)
        upgraded = wait_for(server.url, old_upgrade.id, "completed")
        today = httpx.post(f"{server.url}/v1/generations/{source['id']}/upgrade", json={"resolution": "4k"}).json()
        wait_for(server.url, today["id"], "completed")
        late, _ = store.create_generation(
            engine, spec=GenerationSpec(product_name="Late"), references=[], provider="kie", mode="text"
        )
        task = httpx.post(
            f"{emulator_process}/api/v1/veo/generate",
            headers={"Authorization": f"Bearer {KIE_TEST_KEY}"},
            json={"prompt": "A lamp", "model": "veo3_fast"},
            timeout=30,
        ).json()["data"]["taskId"]
        reopened_as_a_late_fetch(engine, late.id, task)
        until_made(emulator_process, task)  # it finished late: after its generation timed out
        enqueue("veo31.fetch", f"{late.id}-fetch-1", late.id, task)
        fetched = wait_for(server.url, late.id, "completed")
        shapes = {gid: client.retrieve_workflow(gid).get_status() for gid in (old_upgrade.id, today["id"])}
        fetch_shape = client.retrieve_workflow(f"{late.id}-fetch-1").get_status()
    finally:
        server.stop()
        client.destroy()
        engine.dispose()
    assert [c["status"] for c in upgraded["history"]][-3:] == ["generating", "retrieving", "completed"]
    assert (shapes[old_upgrade.id].name, shapes[old_upgrade.id].status) == ("veo31.upgrade", "SUCCESS")
    assert (shapes[today["id"]].name, shapes[today["id"]].status) == ("veo31.upgrade.v3", "SUCCESS")
    assert (fetch_shape.name, fetch_shape.status) == ("veo31.fetch", "SUCCESS")
    for generation in (upgraded, fetched):
        assert probe_video(data / "blobs" / "videos" / f"{generation['id']}.mp4").frames > 0
