"""A generation whose row was written but whose workflow never was (its maker died in between) is started by the
sweeper — at once when it was made before the server began, a minute after it was made otherwise: a row a live
process just wrote is about to be enqueued by that process, at its own priority (a catalogue's behind single ones),
and a sweep in that moment must not start it first.

The maker is played by what it leaves: the generation's row written straight into the database, no workflow."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import update

from tests.databases import database_for
from tests.integration.conftest import polling_server
from tests.integration.test_workflow_versions import wait_for
from veo31.config import load_settings
from veo31.domain import GenerationSpec
from veo31.store import generations as store
from veo31.store.db import create_db_engine, migrate
from veo31.store.tables import GenerationRow, utcnow


def test_a_generation_left_without_a_workflow_starts_once_its_maker_is_surely_gone(
    emulator_process: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    settings = load_settings(database_url=database_for(data), data_dir=data)
    engine = create_db_engine(settings.resolved_database_url)
    server = polling_server(emulator_process, data, VEO31_SWEEP_INTERVAL_SECONDS="1")

    def left_behind(name: str) -> str:
        spec = GenerationSpec(product_name=name)
        generation, _ = store.create_generation(engine, spec=spec, references=[], provider="kie", mode="text")
        return generation.id

    try:
        migrate(engine)  # then a maker that died before the server began
        before = left_behind("Made before the server began")
        server.start()
        wait_for(server.url, before, "completed")
        just_made = left_behind("Just made by a live process")
        time.sleep(4)  # sweeps every second meanwhile
        waiting = httpx.get(f"{server.url}/v1/generations/{just_made}").json()
        assert waiting["status"] == "queued", "a row just written is its maker's to start"
        with engine.begin() as connection:  # a minute later its maker has not enqueued it: it died
            row = GenerationRow.__table__
            connection.execute(
                update(row).where(row.c.id == just_made).values(created_at=utcnow() - timedelta(seconds=61))
            )
        wait_for(server.url, just_made, "completed")
        calls = httpx.get(f"{emulator_process}/_emulator/state", timeout=10).json()["calls"]
    finally:
        server.stop()
        engine.dispose()
    assert calls["generate"] == 2, "each left-behind generation paid once"
