"""The sweeper: every few minutes, look again at generations that ran out of time.

A generation that hit its deadline keeps its provider task id. If the provider finished late, the sweeper
starts a fetch workflow that retrieves the video after all; it looks less and less often (`WaitPolicy`). It also
makes sure every unfinished generation has a live workflow.
"""

from __future__ import annotations

import asyncio
import logging

from veo31.pipeline.launch import ensure_workflows, start_fetch
from veo31.pipeline.outcome import WAIT
from veo31.pipeline.runtime import Runtime
from veo31.store import generations as store
from veo31.store.tables import utcnow

log = logging.getLogger("veo31.sweeper")


async def sweep_forever(runtime: Runtime) -> None:
    delay = min(WAIT.first_sweep_seconds, runtime.settings.sweep_interval_seconds)
    while True:
        await asyncio.sleep(delay)
        delay = runtime.settings.sweep_interval_seconds
        try:
            await sweep(runtime)
        except Exception:  # the sweeper must outlive any one bad pass; the error is logged, not hidden
            log.exception("sweep failed; trying again next round")


async def sweep(runtime: Runtime) -> int:
    """One pass; returns how many generations it set going again (or closed because their workflow ended)."""
    started = 0
    interval = runtime.settings.sweep_interval_seconds
    overdue = await asyncio.to_thread(
        store.overdue_generations,
        runtime.engine,
        utcnow(),
        lambda looks: WAIT.next_late_look(looks, interval),
        looks=WAIT.late_looks,
        limit=WAIT.late_batch,
    )
    for generation in overdue:
        if generation.status.terminal and generation.provider_task_id:
            started += await start_fetch(runtime, generation)
    unfinished = await asyncio.to_thread(store.unfinished_generations, runtime.engine)
    return started + await ensure_workflows(runtime, unfinished)
