"""A worker gone for good, on PostgreSQL: three `veo31 worker` processes, one killed with `kill -9` mid-run and
never restarted. The others notice its silence (VEO31_WORKER_SILENCE_SECONDS), one of them claims it and takes its
generations over: every generation completes within the silence plus a minute, each paid exactly once, the
takeover written in its history — and every `generation.completed` webhook, through a receiver that refuses 30 % of
posts, arrives at least once with a signature the reference package verifies, a repeat carrying the same id."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.databases import KIND
from tests.integration.test_scale_out import create, emulator_state, running_cluster, settled
from tests.receivers import Receiver, receiving

pytestmark = pytest.mark.skipif(
    KIND != "postgresql", reason="many processes on one database: run with VEO31_TEST_DATABASE=postgresql"
)
SILENCE = 5.0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as hook:
        yield hook


def pending_on(database: str, executor: str) -> int:
    with psycopg.connect(f"{database}_dbos_sys") as connection:
        return int(
            connection.execute(
                "SELECT count(*) FROM dbos.workflow_status WHERE executor_id = %s AND status = 'PENDING' "
                "AND name = 'veo31.generation.v3'",
                (executor,),
            ).fetchone()[0]
        )


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_worker_killed_for_good_is_taken_over_and_nothing_is_paid_twice(tmp_path: Path, receiver: Receiver) -> None:
    hook, url = receiver, receiver.url
    settings = {
        "VEO31_WORKER_SILENCE_SECONDS": str(SILENCE),
        "VEO31_WEBHOOK_RETRY_SECONDS": "0.3,0.6,1,1,2,2,3,3",
        "VEO31_WEBHOOK_DISPATCH_SECONDS": "0.2",
        "VEO31_ALLOW_PRIVATE_URLS": "true",
    }
    with running_cluster(tmp_path, workers_count=3, generation_seconds=6.0, **settings) as (api, workers, emu, db):
        made = api.http.post("/v1/webhooks", json={"url": url, "events": ["generation.completed"]})
        assert made.status_code == 201, made.text
        hook.secret = made.json()["secret"]
        ids = [create(api, number) for number in range(18)]
        victim = workers[0]
        deadline = time.monotonic() + 60
        while pending_on(db, "worker-1") < 2:
            assert time.monotonic() < deadline, "worker-1 never took generations"
            time.sleep(0.1)
        victim.kill()
        killed_at = time.monotonic()

        done = [settled(api, generation_id, timeout=SILENCE + 60 + 30) for generation_id in ids]
        took = time.monotonic() - killed_at
        assert took <= SILENCE + 60, f"the last generation settled {took:.0f} s after the kill"
        completed = [generation for generation in done if generation["status"] == "completed"]
        undecided = [generation for generation in done if generation["status"] != "completed"]
        assert len(undecided) <= 1, [generation["history"][-1] for generation in undecided]
        state = emulator_state(emu.url)
        assert state["calls"]["generate"] == len(state["tasks"]) == len(completed), "each generation paid once"
        taken = [
            generation
            for generation in done
            if any("went silent" in (change["detail"] or "") for change in generation["history"])
        ]
        assert taken, "the takeover is in the taken generations' history"
        assert pending_on(db, "worker-1") == 0

        deadline = time.monotonic() + 60
        while True:
            ids_announced = {body["data"]["id"] for body in hook.bodies()}
            if {generation["id"] for generation in completed} <= ids_announced:
                break
            assert time.monotonic() < deadline, f"{len(ids_announced)} of {len(completed)} announced"
            time.sleep(0.2)
        assert hook.forged == 0 and hook.refused > 0
        assert hook.repeats_identical(), "a repeat is the same message"
