"""Following one generation as it changes: what the live status stream and the old routes' short wait read."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from veo31.domain import Generation
from veo31.pipeline.runtime import Runtime
from veo31.store import generations as store


async def _get(runtime: Runtime, generation_id: str) -> Generation:
    return await asyncio.to_thread(store.get_generation, runtime.engine, generation_id)


async def watch(runtime: Runtime, generation_id: str, recheck_seconds: float = 0.5) -> AsyncIterator[Generation]:
    """Yield the generation now and after every change, until it ends. Wakes at once for changes made in this
    process, and re-reads the database every `recheck_seconds` for changes made by other processes."""
    async with runtime.events.watch(generation_id) as changed:
        last: tuple[int, str] | None = None
        while True:
            changed.clear()
            generation = await _get(runtime, generation_id)
            fingerprint = (len(generation.history), generation.updated_at.isoformat())
            if fingerprint != last:
                last = fingerprint
                yield generation
            if generation.status.terminal:
                return
            with contextlib.suppress(TimeoutError):  # no change here: look at the database anyway
                await asyncio.wait_for(changed.wait(), recheck_seconds)


async def wait_until_submitted(runtime: Runtime, generation_id: str, time_limit: float) -> Generation:
    """The generation once it has a provider task (or ended), or as it stands after `time_limit` s."""
    latest: Generation | None = None
    with contextlib.suppress(TimeoutError):  # not submitted in time: it is answered as it stands
        async with asyncio.timeout(time_limit):
            async for latest in watch(runtime, generation_id, recheck_seconds=0.2):
                if latest.provider_task_id or latest.status.terminal:
                    break
    return latest or await _get(runtime, generation_id)
