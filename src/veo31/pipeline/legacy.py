"""Workflow shapes that older versions may have left in flight, frozen: DBOS replays a workflow by the names
and order of its steps, so these never change. New generations never start them; they are registered so that a
generation an older version started resumes after an upgrade, and pays once.

`veo31.generation` (the first shape: prepare → submit → start waiting → wait → check → retrieve), `veo31.upgrade`
(submit the upgrade → start waiting → wait → check → retrieve) and `veo31.fetch` (check → retrieve), then
`veo31.generation.v2`, `veo31.upgrade.v2` and `veo31.fetch.v2` (as today's, without the quality gate) may be
removed once no deployment can hold one in flight: a release after every fleet has run today's shapes alone for longer
than VEO31_GENERATION_DEADLINE_SECONDS plus the late-fetch window (`WaitPolicy`: about two weeks).
"""

from __future__ import annotations

import functools

from dbos import DBOS

from veo31.pipeline.outcome import WAIT, Outcome
from veo31.pipeline.runtime import current
from veo31.pipeline.steps import preparing, retrieving, submitting, waiting
from veo31.pipeline.workflow import adopt_from_callback, failing_generation_on_error, wait_for


@DBOS.workflow(name="veo31.generation")
@failing_generation_on_error
async def legacy_generation_workflow(generation_id: str) -> Outcome:
    """The first shape (prepare → submit → start waiting → wait → check → retrieve), kept for generations that a
    version before `veo31.generation.v2` left in flight. New generations never start it."""
    if not await preparing.prepare(generation_id):
        return Outcome.STOPPED
    task_id = await submitting.submit(generation_id)
    if task_id == submitting.UNCERTAIN:
        task_id = await adopt_from_callback(generation_id)
    if task_id is None:
        return Outcome.FAILED
    state = await follow_task(generation_id, task_id, may_resubmit=True)
    if state is not Outcome.RESUBMIT:
        return state
    # Blocked by a filter that often passes on a second try (nothing was charged): one more submission.
    task_id = await submitting.submit(generation_id)
    if task_id == submitting.UNCERTAIN:
        task_id = await adopt_from_callback(generation_id)
    if task_id is None:
        return Outcome.FAILED
    return await follow_task(generation_id, task_id)


@DBOS.workflow(name="veo31.upgrade")
@failing_generation_on_error
async def legacy_upgrade_workflow(generation_id: str) -> Outcome:
    """The first upgrade shape, kept for renditions a version before `veo31.upgrade.v2` left in flight."""
    task_id = await submitting.submit_upgrade(generation_id)
    if task_id is None:
        return Outcome.FAILED
    return await follow_task(generation_id, task_id)


@DBOS.workflow(name="veo31.fetch")
@failing_generation_on_error
async def legacy_fetch_workflow(generation_id: str, task_id: str) -> Outcome:
    """The first late-fetch shape, kept for fetches a version before `veo31.fetch.v2` left in flight."""
    state = Outcome(await waiting.check(generation_id, task_id, mind_deadline=False))
    if state is Outcome.SUCCEEDED:
        return Outcome.COMPLETED if await retrieving.retrieve(generation_id, task_id) else Outcome.FAILED
    if state is Outcome.GENERATING:
        await waiting.give_up_waiting(generation_id, task_id)
        return Outcome.STILL_GENERATING
    return state


@DBOS.workflow(name="veo31.generation.v2")
@failing_generation_on_error
async def generation_workflow_v2(generation_id: str) -> Outcome:
    """The second shape (begin → wait and look), kept for generations a version before `veo31.generation.v3` left in
    flight: no quality gate (their videos complete as they did)."""
    for attempt in range(WAIT.submissions):
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
        look = functools.partial(waiting.look, generation_id, task_id, may_resubmit=attempt == 0)
        state = await wait_for(generation_id, task_id, [delay, longest], look)
        if state is not Outcome.RESUBMIT:
            return state
    return Outcome.FAILED


@DBOS.workflow(name="veo31.fetch.v2")
@failing_generation_on_error
async def fetch_workflow_v2(generation_id: str, task_id: str) -> Outcome:
    """The second late-fetch shape, kept for fetches a version before `veo31.fetch.v3` left in flight."""
    state = Outcome(await waiting.look(generation_id, task_id, mind_deadline=False))
    if state is Outcome.GENERATING:
        await waiting.give_up_waiting(generation_id, task_id)
        return Outcome.STILL_GENERATING
    return state


@DBOS.workflow(name="veo31.upgrade.v2")
@failing_generation_on_error
async def upgrade_workflow_v2(generation_id: str) -> Outcome:
    """The second upgrade shape, kept for renditions a version before `veo31.upgrade.v3` left in flight."""
    started = await submitting.begin_upgrade(generation_id)
    if not isinstance(started, list):
        return Outcome.FAILED
    task_id, delay, longest = started
    return await wait_for(
        generation_id, task_id, [delay, longest], functools.partial(waiting.look, generation_id, task_id)
    )


async def follow_task(generation_id: str, task_id: str, may_resubmit: bool = False) -> Outcome:
    """Start waiting, then wait for the task with separate check and retrieve steps (the first shapes' way)."""
    schedule = await waiting.start_waiting(generation_id)
    if not schedule:
        return Outcome.STOPPED
    if not isinstance(schedule, list):  # recorded by a version whose step answered True
        settings = current().settings
        schedule = [settings.first_poll_seconds, settings.max_poll_seconds]

    async def look() -> Outcome:
        state = Outcome(await waiting.check(generation_id, task_id, may_resubmit=may_resubmit))
        if state is Outcome.SUCCEEDED:
            return Outcome.COMPLETED if await retrieving.retrieve(generation_id, task_id) else Outcome.FAILED
        return state

    return await wait_for(generation_id, task_id, schedule, look)
