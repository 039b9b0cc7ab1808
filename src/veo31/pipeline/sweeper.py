"""The sweeper: every few minutes, look again at generations that ran out of time.

A generation that hit its deadline keeps its provider task id. If the provider finished late, the sweeper
starts a fetch workflow that retrieves the video after all; it looks less and less often (`WaitPolicy`). It also
makes sure every unfinished generation has a live workflow.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from veo31.pipeline.launch import ensure_workflows, start_fetch
from veo31.pipeline.outcome import WAIT
from veo31.pipeline.runtime import Runtime
from veo31.store import listing
from veo31.store.tables import utcnow

log = logging.getLogger("veo31.sweeper")

# A new generation's row is written just before its workflow is enqueued (by its request, or by its batch's
# workflow after a slice of products); a sweep in that moment would enqueue it itself, ahead of its turn. So a
# generation without a workflow is started once it is this old — or at once if made before this process began
# (its maker died before enqueuing it).
ENQUEUE_GRACE = timedelta(seconds=60)


async def sweep_forever(runtime: Runtime) -> None:
    began = utcnow()
    delay = min(WAIT.first_sweep_seconds, runtime.settings.sweep_interval_seconds)
    while True:
        await asyncio.sleep(delay)
        delay = runtime.settings.sweep_interval_seconds
        try:
            await sweep(runtime, began)
        except Exception:  # the sweeper must outlive any one bad pass; the error is logged, not hidden
            log.exception("sweep failed; trying again next round")


async def sweep(runtime: Runtime, began: datetime) -> int:
    """One pass by a process that began at `began`; returns how many generations it set going again (or closed
    because their workflow ended)."""
    started = 0
    interval = runtime.settings.sweep_interval_seconds
    overdue = await asyncio.to_thread(
        listing.overdue_generations,
        runtime.engine,
        utcnow(),
        lambda looks: WAIT.next_late_look(looks, interval),
        looks=WAIT.late_looks,
        limit=WAIT.late_batch,
    )
    for generation in overdue:
        if generation.status.terminal and generation.provider_task_id:
            started += await start_fetch(runtime, generation)
    unfinished = await asyncio.to_thread(listing.unfinished_generations, runtime.engine)
    made_before = max(began, utcnow() - ENQUEUE_GRACE)
    return started + await ensure_workflows(runtime, unfinished, made_before)
