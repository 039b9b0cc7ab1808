"""What a step or a workflow says of its generation, and every number the waiting follows.

`Outcome` is checkpointed by DBOS as its plain text (`__reduce_ex__`), so what a workflow recorded stays readable
whatever this module becomes, and what older versions recorded (plain strings) reads as the same outcomes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Outcome(enum.StrEnum):
    GENERATING = "generating"  # the provider is still making it
    SUCCEEDED = "succeeded"  # the provider finished; the video is not ours yet
    COMPLETED = "completed"  # retrieved, verified and stored
    FAILED = "failed"  # ended, the reason recorded
    STOPPED = "stopped"  # it ended meanwhile (canceled, or finished by another attempt)
    OVERDUE = "overdue"  # past its deadline, the task kept for a late fetch
    RESUBMIT = "resubmit"  # blocked by a filter that often passes on a second try, uncharged: submit once more
    STILL_GENERATING = "still generating"  # a late fetch found it unfinished; asked again later
    CHECKING = "checking"  # retrieved and stored; the quality gate is next
    HELD = "held"  # the video failed the quality gate and waits for a person's review
    RETRY = "retry"  # the video failed the quality gate: one more paid attempt with a new seed

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:  # Enum's own would store a reference to this class
        return (str, (self.value,))


@dataclass(frozen=True)
class WaitPolicy:
    """Every wait, backoff and attempt count of a generation's workflow, in one place."""

    submissions: int = 2  # a second only after a filter that often passes on a second try (nothing was charged)
    callbacks_to_adopt: int = 20  # forged or foreign callbacks are ignored; a bound keeps a flood of them finite
    backoff: float = 1.5  # each wait for a callback this much longer than the last, up to the longest
    retrieve_attempts: int = 3  # a download or storage failure that is transient: the step runs again
    retrieve_interval_seconds: float = 2.0
    # A generation that timed out keeps its task; the sweeper looks again, each look `late_backoff` times later
    # than the last (from the sweep interval): with the default 5 minutes, 12 looks span about two weeks — as long
    # as Kie keeps its records.
    late_looks: int = 12
    late_backoff: float = 2.0
    late_batch: int = 100  # generations fetched again per sweep at most, the longest waiting first
    first_sweep_seconds: float = 5.0  # the first sweep after start-up comes soon: a restart may have left work

    def next_late_look(self, looks: int, interval: float) -> float:
        """Seconds after the last of `looks` looks that the next is due (there are `late_looks` at most)."""
        return interval * self.late_backoff**looks


WAIT = WaitPolicy()
