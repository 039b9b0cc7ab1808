"""The store's updates name their columns: a misspelt field is refused, never silently dropped (real SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from veo31.domain import GenerationSpec, Status
from veo31.store import changes, generations as store
from veo31.store.db import create_db_engine, migrate


def test_a_misspelt_field_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'veo31.db'}")
    migrate(engine)
    spec = GenerationSpec.model_validate({"product_name": "Blue box"})
    generation, _ = store.create_generation(engine, spec=spec, references=[], provider="kie", mode="text")

    with pytest.raises(ValueError, match="promt"):
        changes.update_fields(engine, generation.id, promt="a written prompt")
    with pytest.raises(ValueError, match="provider_taskid"):
        changes.record_status(engine, generation.id, Status.SUBMITTED, "sent", provider_taskid="t-1")

    kept = store.get_generation(engine, generation.id)
    assert kept.status is Status.QUEUED and kept.prompt is None and len(kept.history) == 1
    assert changes.record_status(engine, generation.id, Status.SUBMITTED, "sent", provider_task_id="t-1")
    assert store.get_generation(engine, generation.id).provider_task_id == "t-1"
    engine.dispose()
