"""Scale-out on PostgreSQL: one API process (`veo31 serve --no-worker`) and two `veo31 worker` processes with
stable executor ids, sharing one database. Work is shared, live status reaches the API's SSE stream from another
process, and a worker killed with `kill -9` again and again loses nothing and pays for nothing twice.

Who finishes a killed worker's generation: its own restart. DBOS recovers a workflow on the executor that owned it
(its id is stable, `VEO31_EXECUTOR_ID`), resuming after the last finished step; a generation still *queued* is
taken by whichever worker dequeues it. A callback that arrives while the worker is down is kept by the API
process as a DBOS message, so a submission the kill left uncertain is adopted from it when the worker is back.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.conftest import KIE_TEST_KEY, ServeProcess, png_bytes
from tests.databases import KIND, database_for
from tests.integration.conftest import Api, free_port
from veo31.emulators.kie import create_kie_emulator
from veo31.emulators.serve import ServerThread
from veo31.media.probe import probe_video

pytestmark = pytest.mark.skipif(
    KIND != "postgresql", reason="many processes on one database: run with VEO31_TEST_DATABASE=postgresql"
)


class WorkerProcess:
    """`veo31 worker` as a real subprocess: started, killed with -9, restarted under the same executor id."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("KIE_", "GEMINI_", "GOOGLE_", "VEO31_"))}
        self.env = {**clean, **env}
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "veo31", "worker"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while "worker running" not in self.log_path.read_text(errors="replace").rsplit("\n\n", 1)[-1]:
            assert self.process.poll() is None, self.log_path.read_text()[-2000:]
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        with self.log_path.open("a") as log:
            log.write("\n\n")  # the next start looks for its own "worker running" line

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


@contextmanager
def running_cluster(
    tmp_path: Path, workers_count: int = 2, generation_seconds: float = 1.5, **settings: str
) -> Iterator[tuple[Api, list[WorkerProcess], Any, str]]:
    emulator = ServerThread(
        create_kie_emulator(
            api_keys=[KIE_TEST_KEY], generation_seconds=generation_seconds, clip_seconds=1.0, rate_limit=1000
        )
    )
    emulator.start()
    data = tmp_path / "data"
    database = database_for(data)
    assert database is not None
    port = free_port()
    shared = {
        "KIE_API_KEY": KIE_TEST_KEY,
        "KIE_BASE_URL": emulator.url,
        "KIE_UPLOAD_BASE_URL": emulator.url,
        "VEO31_DATABASE_URL": database,
        "VEO31_DATA_DIR": str(data),
        "VEO31_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "VEO31_FIRST_POLL_SECONDS": "1",
        "VEO31_MAX_POLL_SECONDS": "2",
        "VEO31_WAKE_INTERVAL_SECONDS": "0.05",
        "VEO31_QUEUE_POLL_SECONDS": "0.2",
        "VEO31_LOCAL_DISABLED": "true",
        "VEO31_KIE_CONCURRENCY": "6",
        **settings,
    }
    api_process = ServeProcess({**shared, "VEO31_EXECUTOR_ID": "api"}, port, str(data), args=("--no-worker",))
    workers = [
        WorkerProcess({**shared, "VEO31_EXECUTOR_ID": f"worker-{n}"}, tmp_path / f"worker-{n}.log")
        for n in range(1, workers_count + 1)
    ]
    api_process.start()
    for worker in workers:
        worker.start()
    try:
        yield Api(api_process.url, data), workers, emulator, database
    finally:
        for worker in workers:
            worker.stop()
        api_process.stop()
        emulator.stop()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Api, list[WorkerProcess], Any, str]]:
    with running_cluster(tmp_path) as parts:
        yield parts


def emulator_state(url: str) -> dict[str, Any]:
    return httpx.get(f"{url}/_emulator/state").json()


def executors(database: str) -> dict[str, int]:
    """Which executor ran each generation's workflow, from DBOS's own records."""
    with psycopg.connect(f"{database}_dbos_sys") as connection:
        rows = connection.execute(
            "SELECT executor_id, count(*) FROM dbos.workflow_status WHERE name = 'veo31.generation.v3' GROUP BY 1"
        ).fetchall()
    return {str(executor): int(count) for executor, count in rows}


def test_an_api_process_and_two_workers_share_the_work_and_stream_live_status(
    cluster: tuple[Api, list[WorkerProcess], Any, str],
) -> None:
    api, _, emulator, database = cluster
    ids = [api.create(files=[png_bytes(colour=(20 * n, 90, 200))])["id"] for n in range(12)]
    seen: list[str] = []
    with httpx.stream("GET", f"{api.url}/v1/generations/{ids[-1]}/events", timeout=60) as events:
        for line in events.iter_lines():
            if line.startswith("data:") and '"status"' in line:
                seen.append(line.split('"status":"', 1)[1].split('"', 1)[0])
                if seen[-1] in ("completed", "failed"):
                    break
    assert seen[-1] == "completed" and "generating" in seen, f"SSE from the API process: {seen}"
    done = [api.wait(generation_id, timeout=120) for generation_id in ids]
    assert all(generation["status"] == "completed" for generation in done), [g["error"] for g in done]
    assert emulator_state(emulator.url)["calls"]["generate"] == 12
    shares = executors(database)
    assert set(shares) == {"worker-1", "worker-2"}, f"the API process runs nothing; both workers work: {shares}"
    assert min(shares.values()) >= 3, f"a fair share each: {shares}"


def test_the_fleet_wide_cap_holds_across_workers(tmp_path: Path) -> None:
    """Each worker may take 6, but the fleet may have only 3 Kie.ai generations in flight at any moment."""
    with running_cluster(tmp_path, VEO31_KIE_FLEET_CONCURRENCY="3") as (api, _, emulator, database):
        ids = [create(api, number) for number in range(10)]
        done = [api.wait(generation_id, timeout=180) for generation_id in ids]
        assert all(generation["status"] == "completed" for generation in done), [g["error"] for g in done]
        assert emulator_state(emulator.url)["calls"]["generate"] == 10
        busiest = most_at_once([in_flight(generation) for generation in done])
        assert busiest == 3, f"at most 3 at once across both workers, and the cap was reached: {busiest}"
        assert sum(executors(database).values()) == 10


def in_flight(generation: dict[str, Any]) -> tuple[datetime, datetime]:
    """From the moment a worker took the generation (preparing) to its end."""
    times = {change["status"]: datetime.fromisoformat(change["at"]) for change in generation["history"]}
    return times["preparing"], times[generation["status"]]


def most_at_once(spans: list[tuple[datetime, datetime]]) -> int:
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = busiest = 0
    for _, step in edges:  # an end sorts before a start at the same instant: a slot handed on is not two at once
        running += step
        busiest = max(busiest, running)
    return busiest


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_worker_killed_again_and_again_loses_nothing_and_pays_once(
    cluster: tuple[Api, list[WorkerProcess], Any, str],
) -> None:
    api, workers, emulator, _ = cluster
    victim = workers[0]
    total = 30
    ids: list[str] = []

    def create_all() -> None:
        for number in range(total):
            ids.append(create(api, number))
            time.sleep(0.1)

    creating = threading.Thread(target=create_all, daemon=True)
    creating.start()
    rng = random.Random(20261202)
    for _ in range(8):
        time.sleep(rng.uniform(0.3, 2.0))
        victim.kill()
        victim.start()
    creating.join(120)
    done = [settled(api, generation_id) for generation_id in ids]
    assert len(done) == total
    state = emulator_state(emulator.url)
    paid = {task["params"]["prompt"] for task in state["tasks"]}
    completed = [g for g in done if g["status"] == "completed"]
    undecided = [g for g in done if g["status"] != "completed"]
    assert len(state["tasks"]) == len(paid) == len(completed), "every paid task became one video; none paid twice"
    # The one moment no provider without idempotency keys can resolve — killed while the paid request itself was
    # leaving, so Kie made nothing — is left waiting (it cost nothing), never resent. It must stay rare.
    assert len(undecided) <= 1, [g["history"][-1] for g in undecided]
    for generation in undecided:
        assert "outcome is unknown" in (generation["history"][-1]["detail"] or "")
    assert state["calls"]["generate"] == len(state["tasks"]), "no submission was repeated"
    for generation in completed:
        assert probe_video(api.data_dir / "blobs" / "videos" / f"{generation['id']}.mp4").frames > 0


def settled(api: Api, generation_id: str, timeout: float = 240) -> dict[str, Any]:
    """The generation once it ended, or once it waits on an uncertain submission (which only its deadline ends)."""
    deadline = time.monotonic() + timeout
    while True:
        generation = api.get(generation_id)
        last = generation["history"][-1]["detail"] or ""
        if generation["status"] in ("completed", "failed", "canceled") or "outcome is unknown" in last:
            return generation
        assert time.monotonic() < deadline, f"still {generation['status']}: {generation['history'][-3:]}"
        time.sleep(0.2)


def create(api: Api, number: int) -> str:
    return api.create(product_name=f"scale-item-{number:03d}", headers={"Idempotency-Key": f"scale-{number}"})["id"]
