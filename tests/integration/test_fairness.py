"""A person's one-off video does not wait behind a catalogue: with room for one Kie task at a time, a generation
made while a batch's products are queued is submitted at the next free slot, before every product still waiting."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import httpx

from tests.cli.test_catalogue_cli import hosted
from tests.conftest import ServeProcess, kie_env
from tests.integration.conftest import free_port, kie_process
from tests.integration.test_batches import shopify_export


def submitted_at(generation: dict) -> datetime:
    return next(datetime.fromisoformat(c["at"]) for c in generation["history"] if c["status"] == "submitted")


def test_a_single_generation_goes_before_the_catalogue_still_queued(tmp_path: Path) -> None:
    with kie_process(tmp_path, clip_seconds=1, generation_seconds=1) as emulator:
        env = kie_env(emulator, VEO31_KIE_CONCURRENCY="1", VEO31_FIRST_POLL_SECONDS="0.3", VEO31_MAX_POLL_SECONDS="0.5")
        server = ServeProcess(env, free_port(), str(tmp_path / "data"))
        server.start()
        try:
            image = hosted(emulator, (200, 60, 60))
            export = shopify_export({f"item-{n}": [image] for n in range(8)}, without_image=None)
            batch = httpx.post(f"{server.url}/v1/batches", files={"file": ("export.csv", export, "text/csv")}).json()
            deadline = time.monotonic() + 60
            while httpx.get(f"{server.url}/v1/batches/{batch['id']}").json()["counts"].get("completed", 0) < 1:
                assert time.monotonic() < deadline
                time.sleep(0.1)
            single = httpx.post(
                f"{server.url}/v1/generations", json={"image_urls": [image], "product_name": "One-off"}
            ).json()
            deadline = time.monotonic() + 120
            while not httpx.get(f"{server.url}/v1/batches/{batch['id']}").json()["finished"]:
                assert time.monotonic() < deadline
                time.sleep(0.2)
            while (one := httpx.get(f"{server.url}/v1/generations/{single['id']}").json())["status"] != "completed":
                assert time.monotonic() < deadline
                time.sleep(0.2)
            rows = httpx.get(f"{server.url}/v1/batches/{batch['id']}/results.json").json()["products"]
            products = [httpx.get(f"{server.url}/v1/generations/{row['generation_id']}").json() for row in rows]
            later = [p for p in products if submitted_at(p) > submitted_at(one)]
            queued_when_made = [p for p in products if submitted_at(p) > datetime.fromisoformat(single["created_at"])]
            assert len(queued_when_made) >= 3, "the catalogue still had products waiting"
            assert len(later) >= len(queued_when_made) - 1, "at most the product already under way went first"
        finally:
            server.stop()
