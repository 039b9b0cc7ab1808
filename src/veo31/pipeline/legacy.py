"""Workflow shapes that older versions may have left in flight, frozen: DBOS replays a workflow by the names
and order of its steps, so these never change. New generations never start them; they are registered so that a
generation an older version started resumes after an upgrade, and pays once.

`veo31.generation` (the first shape: prepare → submit → start waiting → wait → check → retrieve) may be removed
once no deployment can hold one in flight: a release after every fleet has run `veo31.generation.v2` alone for
longer than VEO31_GENERATION_DEADLINE_SECONDS plus the late-fetch window.
"""

from __future__ import annotations

from dbos import DBOS

from veo31.pipeline.outcome import Outcome
from veo31.pipeline.steps import preparing, submitting
from veo31.pipeline.workflow import adopt_from_callback, failing_generation_on_error, follow_task


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
