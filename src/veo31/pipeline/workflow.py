"""One DBOS workflow per generation (workflow id = generation id): begin (prepare and submit) → wait → look
(check, and retrieve once finished) → the quality gate.

The wait is `recv` with a timeout: a provider callback sends the workflow a message and wakes it at once; on
timeout it asks the provider itself, backing off from `first_poll_seconds` to `max_poll_seconds`, until the
generation's deadline. Either way the provider's status call decides — a callback is only a knock on the door.

DBOS replays a workflow by the position and name of its steps, so a workflow's steps never change once it has
run anywhere: a new shape gets a new name, and the old one stays registered, unchanged, for the generations a
previous version left in flight (they resume with it after an upgrade). The older shapes are in `legacy.py`;
today's work in steps of one grain: one step to begin, one per look, one for the gate.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, assert_never

from dbos import DBOS

from veo31.config import MAX_QUALITY_RETRIES
from veo31.pipeline.outcome import WAIT, Outcome
from veo31.pipeline.runtime import current
from veo31.pipeline.steps import adopting, finishing, gating, submitting, waiting

WAKE = "wake"
log = logging.getLogger("veo31.pipeline")


def failing_generation_on_error(workflow: Callable[..., Awaitable[Outcome]]) -> Callable[..., Awaitable[Outcome]]:
    """A workflow that dies of an unexpected error fails its generation (kind `internal`) before it ends, so
    nothing stays in a non-final status with no workflow behind it. The error is logged under the generation's
    id, and raised again: DBOS records the workflow as ERROR, as it ended.

    Safe for shapes already in flight: the step it adds runs only where the workflow would otherwise have died,
    and a workflow that died is never replayed."""

    @functools.wraps(workflow)
    async def guarded(generation_id: str, *args: Any) -> Outcome:
        try:
            return await workflow(generation_id, *args)
        except Exception as error:
            log.exception("generation %s: its workflow died of an unexpected error", generation_id)
            await waiting.fail_internal(generation_id, type(error).__name__)
            raise

    return guarded


@DBOS.workflow(name="veo31.generation.v3")
@failing_generation_on_error
async def generation_workflow(generation_id: str) -> Outcome:
    """Begin (prepare and submit), wait and look, then the quality gate. Under VEO31_QUALITY_GATE=retry a video
    that fails it is set aside and the loop submits again with a new seed; the gate step alone decides whether one
    more attempt may be paid for, so the loop's bound only guards against a bug."""
    resubmitted = False
    for _ in range(WAIT.submissions + MAX_QUALITY_RETRIES):
        started = await submitting.begin(generation_id)
        if started == submitting.UNCERTAIN:
            task_id = await adopt_from_callback(generation_id)
            if task_id is None:
                return Outcome.FAILED
            schedule = await waiting.start_waiting(generation_id)
            if not schedule:
                return Outcome.STOPPED
            started = [task_id, *schedule]
        if not isinstance(started, list):
            return Outcome.FAILED
        task_id, delay, longest = started
        look = functools.partial(waiting.look, generation_id, task_id, may_resubmit=not resubmitted, gated=True)
        state = await wait_for(generation_id, task_id, [delay, longest], look)
        if state is Outcome.RESUBMIT:
            resubmitted = True
            continue
        if state is Outcome.CHECKING:
            state = Outcome(await gating.gate(generation_id))
        if state is not Outcome.RETRY:
            return state
    return Outcome.FAILED


@DBOS.workflow(name="veo31.upgrade.v3")
@failing_generation_on_error
async def upgrade_workflow(generation_id: str) -> Outcome:
    """A 1080p / 4K rendition of a finished generation: ask the provider for it and begin the wait (one step), wait
    and look as a generation does, then the quality gate — reporting only: the rendition is the same video larger,
    and the original was judged (and, held, approved) already."""
    started = await submitting.begin_upgrade(generation_id)
    if not isinstance(started, list):
        return Outcome.FAILED
    task_id, delay, longest = started
    look = functools.partial(waiting.look, generation_id, task_id, gated=True)
    state = await wait_for(generation_id, task_id, [delay, longest], look)
    if state is Outcome.CHECKING:
        return Outcome(await gating.gate(generation_id, may_retry=False, may_hold=False))
    return state


@DBOS.workflow(name="veo31.deliver.v1")
@failing_generation_on_error
async def deliver_workflow(generation_id: str) -> Outcome:
    """A deliverable: its source's video made ready for a channel, in one step."""
    return Outcome(await finishing.finish(generation_id))


async def adopt_from_callback(generation_id: str) -> str | None:
    """After an uncertain submission, wait for the provider's callback to name the task; verify, then adopt it."""
    if not await adopting.can_adopt(generation_id):
        return None
    settings = current().settings
    for _ in range(WAIT.callbacks_to_adopt):
        message = await DBOS.recv_async(WAKE, timeout_seconds=settings.generation_deadline_seconds)
        if message is None:
            break
        task_id = message.get("task_id") if isinstance(message, dict) else None
        if message.get("canceled") if isinstance(message, dict) else False:
            return None
        if task_id and await adopting.adopt(generation_id, task_id):
            return str(task_id)
    await adopting.give_up_adopting(generation_id)
    return None


@DBOS.workflow(name="veo31.fetch.v3")
@failing_generation_on_error
async def fetch_workflow(generation_id: str, task_id: str) -> Outcome:
    """Look once more at a task that outlived its deadline (one step: retrieved if it finished), then the quality
    gate (no new attempt from a late fetch: a video that fails waits for review under `retry` as under `hold`);
    still unfinished, it is looked at later."""
    state = Outcome(await waiting.look(generation_id, task_id, mind_deadline=False, gated=True))
    if state is Outcome.GENERATING:
        await waiting.give_up_waiting(generation_id, task_id)
        return Outcome.STILL_GENERATING
    if state is Outcome.CHECKING:
        return Outcome(await gating.gate(generation_id, may_retry=False))
    return state


async def wait_for(
    generation_id: str, task_id: str, schedule: list[float], look: Callable[[], Awaitable[str]]
) -> Outcome:
    """Wait for a callback (or the next wait's end), then `look`, until the task ends or the deadline passes."""
    delay, longest = schedule
    while True:
        await DBOS.recv_async(WAKE, timeout_seconds=delay)
        state = Outcome(await look())  # a look an older version checkpointed comes back as plain text
        match state:
            case Outcome.GENERATING:
                delay = min(longest, delay * WAIT.backoff)
            case Outcome.OVERDUE:
                await waiting.give_up_waiting(generation_id, task_id)
                return Outcome.OVERDUE
            case (
                Outcome.COMPLETED
                | Outcome.FAILED
                | Outcome.STOPPED
                | Outcome.RESUBMIT
                | Outcome.SUCCEEDED
                | Outcome.STILL_GENERATING
                | Outcome.CHECKING
                | Outcome.HELD
                | Outcome.RETRY
            ):
                return state
            case _:
                assert_never(state)
