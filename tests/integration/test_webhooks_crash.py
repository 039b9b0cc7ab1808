"""Webhooks through a crash: `veo31 serve` killed with `kill -9` while a catalogue batch runs and its events are
being delivered to a receiver that refuses 30 % of posts, then started again. Every event — each product's
`generation.completed` and the `batch.completed` — arrives at least once, verified by the Standard Webhooks
reference package; a repeat carries the same `webhook-id` and the same bytes; each product is paid once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.test_catalogue_cli import hosted
from tests.conftest import ServeProcess, kie_env
from tests.integration.conftest import free_port, kie_process
from tests.integration.test_batches import shopify_export
from tests.receivers import Receiver, receiving


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as hook:
        yield hook


@pytest.mark.timeout(300)
def test_every_event_survives_a_kill_9_and_arrives_at_least_once(tmp_path: Path, receiver: Receiver) -> None:
    hook, url = receiver, receiver.url
    with kie_process(tmp_path, clip_seconds=1, generation_seconds=2) as emulator:
        env = kie_env(emulator, VEO31_WEBHOOK_RETRY_SECONDS="0.3,0.6,1,1,2,2,3", VEO31_WEBHOOK_DISPATCH_SECONDS="0.2")
        server = ServeProcess(env, free_port(), str(tmp_path / "data"))
        server.start()
        try:
            made = httpx.post(
                f"{server.url}/v1/webhooks", json={"url": url, "events": ["generation.completed", "batch.completed"]}
            )
            assert made.status_code == 201, made.text
            hook.secret = made.json()["secret"]
            images = [hosted(emulator, (30 * n, 120, 200 - 20 * n)) for n in range(6)]
            export = shopify_export({f"item-{n}": [image] for n, image in enumerate(images)}, without_image=None)
            batch = httpx.post(f"{server.url}/v1/batches", files={"file": ("export.csv", export, "text/csv")}).json()
            deadline = time.monotonic() + 60
            while not hook.bodies():
                assert time.monotonic() < deadline, "no event arrived before the kill"
                time.sleep(0.05)
            server.kill()
            server.start()
            deadline = time.monotonic() + 120
            while True:
                bodies = hook.bodies()
                products = [body for body in bodies if body["type"] == "generation.completed"]
                if len(products) >= 6 and any(body["type"] == "batch.completed" for body in bodies):
                    break
                assert time.monotonic() < deadline, f"{len(products)} of 6 products announced: {server.log()[-1500:]}"
                time.sleep(0.2)
            shown = httpx.get(f"{server.url}/v1/batches/{batch['id']}").json()
            assert shown["counts"] == {"completed": 6}
            results = httpx.get(f"{server.url}/v1/batches/{batch['id']}/results.json").json()["products"]
            assert {body["data"]["id"] for body in products} == {row["generation_id"] for row in results}
            assert hook.forged == 0 and hook.repeats_identical(), "a repeat is the same message"
            state = httpx.get(f"{emulator}/_emulator/state").json()
            assert state["calls"]["generate"] == len(state["tasks"]) == 6, "each product paid once"
        finally:
            server.stop()
