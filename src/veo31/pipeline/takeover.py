"""A worker gone for good: every worker beats (a row with its executor id and the time), and looks for one silent
longer than VEO31_WORKER_SILENCE_SECONDS; the first to claim it — one UPDATE that only one transaction can win —
hands its unfinished workflows back to the queues (DBOS recovery of a named executor), where any live worker picks
them up after their last finished step, so nothing is paid twice. The takeover is written in each generation's
history.
"""

from __future__ import annotations

import asyncio
import logging

from dbos import DBOS

from veo31.errors import NotFoundError
from veo31.pipeline.runtime import Runtime
from veo31.store import workers

log = logging.getLogger("veo31.takeover")


async def beat_forever(runtime: Runtime, executor_id: str) -> None:
    silence = runtime.settings.worker_silence_seconds
    while True:
        try:
            await asyncio.to_thread(workers.beat, runtime.engine, executor_id)
            await take_over_silent(runtime, executor_id)
        except Exception:  # a missed beat is logged; the next one comes in a few seconds
            log.exception("worker heartbeat failed; trying again")
        await asyncio.sleep(max(0.5, silence / 6))


async def take_over_silent(runtime: Runtime, executor_id: str) -> list[str]:
    """Claim every worker silent too long and recover its workflows here; the workflow ids recovered."""
    silence = runtime.settings.worker_silence_seconds
    recovered: list[str] = []
    for silent in await asyncio.to_thread(workers.silent, runtime.engine, executor_id, silence):
        if not await asyncio.to_thread(workers.claim, runtime.engine, silent, executor_id, silence):
            continue  # another worker claimed it first
        handles = await asyncio.to_thread(DBOS._recover_pending_workflows, [silent])
        ids = [handle.workflow_id for handle in handles]
        log.warning("worker %s was silent for over %g s: %d workflow(s) taken over", silent, silence, len(ids))
        for workflow_id in ids:
            await _note(runtime, workflow_id, f"worker {silent} went silent; worker {executor_id} took it over")
        recovered += ids
    return recovered


async def _note(runtime: Runtime, workflow_id: str, detail: str) -> None:
    generation_id = workflow_id.split("-fetch-")[0]
    try:
        await runtime.note(generation_id, detail)
    except NotFoundError:
        return  # a batch's or a webhook's workflow: no generation history to write in
