"""Waiting on a task: asking the provider where it stands (a failed *check* never ends a task), and giving up
at the deadline with the task kept for a late fetch."""

from __future__ import annotations

import logging
from typing import Any

from dbos import DBOS

from veo31.domain import Generation, ProviderState, Status
from veo31.errors import (
    Veo31Error,
)
from veo31.pipeline.costs import (
    reported_cost,
)
from veo31.pipeline.outcome import Outcome
from veo31.pipeline.runtime import Runtime, current
from veo31.pipeline.steps.common import fail, load, poll_schedule
from veo31.pipeline.steps.retrieving import RETRIEVE_POLICY, retrieve_now
from veo31.store.tables import utcnow

log = logging.getLogger("veo31.pipeline")


@DBOS.step()
async def start_waiting(generation_id: str) -> list[float] | None:
    """Mark the generation generating; the poll schedule (first, longest wait) for its provider, or None if it
    ended meanwhile."""
    runtime = current()
    generation = await load(runtime, generation_id)
    if generation.status.terminal:
        return None
    await runtime.set_status(generation_id, Status.GENERATING)
    return poll_schedule(runtime, generation.provider or "")


@DBOS.step()
async def check(generation_id: str, task_id: str, mind_deadline: bool = True, may_resubmit: bool = False) -> Outcome:
    """Ask the provider where the task stands: 'generating', 'succeeded', 'failed', 'stopped', 'overdue', or
    'resubmit' — a filter that often passes on a second try (Google's audio filter) blocked it, uncharged, and
    `may_resubmit` allows one more submission."""
    runtime = current()
    generation = await load(runtime, generation_id)
    state, found = await check_now(runtime, generation, task_id, mind_deadline=mind_deadline, may_resubmit=may_resubmit)
    if state is Outcome.SUCCEEDED:
        # Retrieval starts from these, so it need not ask the provider again (an expired link gets a fresh one).
        await runtime.update(generation_id, **found)
    return state


@DBOS.step(**RETRIEVE_POLICY)
async def look(
    generation_id: str, task_id: str, may_resubmit: bool = False, mind_deadline: bool = True, gated: bool = False
) -> Outcome:
    """`check`, and when the task succeeded, `retrieve` in the same step: 'completed' (or with `gated`, 'checking':
    the quality gate's step comes next) or what `check` answers.

    One step instead of two saves two checkpoint transactions, a load and a write per generation. A transient
    failure of the download runs both again (DBOS's retries), which asks the provider once more: a read.
    Without `mind_deadline` (a late fetch) a task still generating is never overdue."""
    runtime = current()
    generation = await load(runtime, generation_id)
    if generation.status in (Status.COMPLETED, Status.CHECKING):  # done by an attempt whose checkpoint a crash lost
        return Outcome(generation.status.value)
    state, found = await check_now(runtime, generation, task_id, mind_deadline=mind_deadline, may_resubmit=may_resubmit)
    if state is not Outcome.SUCCEEDED:
        return state
    return await retrieve_now(runtime, generation, task_id, found, gated=gated)


async def check_now(
    runtime: Runtime, generation: Generation, task_id: str, *, mind_deadline: bool, may_resubmit: bool
) -> tuple[Outcome, dict[str, Any]]:
    """Where the task stands (see `check`), and for a finished one the fields learnt: its link and reported cost."""
    generation_id = generation.id
    if generation.status.terminal:
        return Outcome.STOPPED, {}
    provider = runtime.provider(generation.provider or "")
    try:
        status = await provider.status(task_id)
    except Veo31Error as error:
        # A failed *check* is never the task's outcome: the task exists, is paid for, and may well finish (a key
        # rotated or a 402 blip while Kie generates). Only the provider's own task state ends it; until the
        # deadline the wait goes on, then the generation times out with its task kept (a late fetch recovers it).
        log.warning("status check for %s failed (%s), will ask again: %s", generation_id, error.kind, error.message)
        return _still_waiting_or_overdue(generation, mind_deadline), {}
    if status.state is ProviderState.SUCCEEDED:
        return Outcome.SUCCEEDED, {"provider_video_url": status.video_url, **reported_cost(status)}
    if status.state is ProviderState.FAILED and status.error is not None:
        uncharged = status.charged is False
        if may_resubmit and uncharged and status.retry_same:
            await runtime.note(generation_id, f"{status.error.message}; trying once more with the same prompt")
            await runtime.update(generation_id, provider_task_id=None, submit_started_at=None)
            return Outcome.RESUBMIT, {}
        if uncharged:
            await runtime.update(generation_id, cost_usd=0.0, cost_basis=f"not charged: {provider.label} made no video")
        await fail(runtime, generation_id, status.error, stage=f"{provider.label} generation")
        return Outcome.FAILED, {}
    return _still_waiting_or_overdue(generation, mind_deadline), {}


def _still_waiting_or_overdue(generation: Generation, mind_deadline: bool) -> Outcome:
    if mind_deadline and generation.deadline_at is not None and utcnow() >= generation.deadline_at:
        return Outcome.OVERDUE
    return Outcome.GENERATING


@DBOS.step()
async def fail_internal(generation_id: str, error_name: str) -> None:
    """The generation's workflow died of an unexpected error: fail it, pointing at the log (a status change only,
    no load: loading may be what failed)."""
    message = (
        f"veo31 stopped this generation after an unexpected error ({error_name}); the server log has the details "
        f"under 'generation {generation_id}' — please report it, then retry"
    )
    await current().set_status(
        generation_id, Status.FAILED, f"internal error: {error_name}", error_kind="internal", error_message=message
    )


@DBOS.step()
async def give_up_waiting(generation_id: str, task_id: str) -> None:
    runtime = current()
    minutes = runtime.settings.generation_deadline_seconds / 60
    await runtime.set_status(
        generation_id,
        Status.FAILED,
        f"no result within {minutes:g} min; task {task_id} is kept",
        error_kind="timed_out",
        error_message=f"the provider did not finish within {minutes:g} minutes; veo31 keeps task {task_id} and "
        "retrieves the video if it finishes later (or run `veo31 fetch`)",
    )
