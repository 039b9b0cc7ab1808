"""Outcomes as DBOS checkpoints them: plain text, so what a workflow recorded reads the same in any version."""

from __future__ import annotations

import pickle

from veo31.pipeline.outcome import Outcome


def test_an_outcome_is_checkpointed_as_its_plain_text() -> None:
    for outcome in Outcome:
        stored = pickle.loads(pickle.dumps(outcome))
        assert type(stored) is str and stored == outcome.value
        assert b"veo31" not in pickle.dumps(outcome), "no reference to this module in a checkpoint"


def test_what_older_versions_recorded_reads_as_the_same_outcomes() -> None:
    for text in ("generating", "succeeded", "completed", "failed", "stopped", "overdue", "resubmit"):
        assert Outcome(text).value == text
