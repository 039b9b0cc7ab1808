"""The only code that starts workflows: a new generation's (on its provider's queue), a late fetch of one that
timed out, and the one every unfinished generation must have (the sweeper asks). Workflow ids are generation ids
(or `<id>-fetch-<n>`), so starting one twice starts it once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime

from dbos import DBOS, SetEnqueueOptions, SetWorkflowID

from veo31.domain import Generation, Status
from veo31.pipeline.runtime import Runtime
from veo31.pipeline.workflow import deliver_workflow, fetch_workflow, generation_workflow, upgrade_workflow
from veo31.providers.registry import label_of
from veo31.store import changes

log = logging.getLogger("veo31.launch")
FINISHING = "veo31-finishing"  # the queue deliverables are made on (the providers' are `provider-<name>`)


# A catalogue's generations queue behind single ones: DBOS dequeues the lowest priority number first (none is 0),
# so a person's one-off video starts at the next free slot, not after ten thousand products.
CATALOGUE_PRIORITY = 10


async def enqueue(runtime: Runtime, generation: Generation, priority: int | None = None) -> None:
    """Start the generation's workflow on its provider's queue; the workflow id is the generation id, so doing
    this twice starts it once."""
    if generation.deliverable_of:  # made here, from a stored video: the finishing queue, no provider's
        queue, workflow = runtime.queue(FINISHING), deliver_workflow
    else:
        queue = runtime.queue(generation.provider or "")
        workflow = upgrade_workflow if generation.upgrade_of else generation_workflow
    with SetWorkflowID(generation.id), SetEnqueueOptions(priority=priority):
        await queue.enqueue_async(workflow, generation.id)


async def enqueue_new(runtime: Runtime, generation_id: str, provider: str, priority: int | None = None) -> None:
    """`enqueue` for a plain new generation known by its id and provider (a batch's, from inside its workflow)."""
    with SetWorkflowID(generation_id), SetEnqueueOptions(priority=priority):
        await runtime.queue(provider).enqueue_async(generation_workflow, generation_id)


ENDED_WORKFLOW = ("ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED", "SUCCESS")


async def ensure_workflows(runtime: Runtime, generations: Sequence[Generation], made_before: datetime) -> int:
    """Every unfinished generation has a live workflow: one made before `made_before` and never enqueued (the
    process died in between) gets it now; one whose workflow ended without finishing it (a bug, or DBOS gave up
    recovering it) is failed with that reason, so nothing waits forever. One look at DBOS for them all (one each
    cost a query per generation in flight at every sweep). How many it set going or closed."""
    if not generations:
        return 0
    found = await DBOS.list_workflows_async(
        workflow_ids=[generation.workflow_id for generation in generations], load_input=False, load_output=False
    )
    statuses = {status.workflow_id: status.status for status in found}
    changed = 0
    for generation in generations:
        status = statuses.get(generation.workflow_id)
        if status is None and generation.fetch_attempts == 0 and generation.created_at < made_before:
            log.warning("generation %s had no workflow; starting it", generation.id)
            await enqueue(runtime, generation)
            changed += 1
        elif status in ENDED_WORKFLOW:  # set_status leaves a generation alone if it ended meanwhile
            reason = str(status).lower().replace("_", " ")
            await runtime.set_status(
                generation.id,
                Status.FAILED,
                f"its workflow ended ({reason})",
                error_kind="interrupted",
                error_message=f"veo31 could not finish this generation (its workflow ended: {reason}); retry it",
            )
            changed += 1
    return changed


async def start_fetch(runtime: Runtime, generation: Generation) -> int:
    attempt = await asyncio.to_thread(changes.bump_fetch_attempts, runtime.engine, generation.id)
    label = label_of(generation.provider) or "the provider"
    detail = f"asking {label} again about task {generation.provider_task_id}"
    if not await runtime.record(generation.id, changes.reopen_for_fetch, detail):
        return 0
    queue = runtime.queue(generation.provider or "")
    # On the provider's queue, like every workflow: a worker runs it, whichever process asked for it.
    with SetWorkflowID(f"{generation.id}-fetch-{attempt}"):  # = Generation.workflow_id once reopened
        await queue.enqueue_async(fetch_workflow, generation.id, generation.provider_task_id)
    return 1
