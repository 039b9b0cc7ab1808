"""What the unit tests of the pipeline share: a real Runtime on a SQLite file of its own, with no server and no
DBOS, and the providers each test gives it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from veo31.analysis.choose import build_analyser
from veo31.config import load_settings
from veo31.pipeline.runtime import Runtime
from veo31.prompts.choose import build_prompt_writer
from veo31.store.blobs import open_blob_store
from veo31.store.db import create_db_engine, migrate


def make_runtime(tmp_path: Path, **settings: object) -> Runtime:
    loaded = load_settings(data_dir=tmp_path, **settings)
    engine = create_db_engine(f"sqlite:///{tmp_path / 'veo31.db'}")
    migrate(engine)
    return Runtime(loaded, engine, open_blob_store(loaded), {}, build_analyser(loaded), build_prompt_writer(loaded))


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    made = make_runtime(tmp_path, budget_limit=1.0, kie_credit_usd=0.005)
    yield made
    made.engine.dispose()
