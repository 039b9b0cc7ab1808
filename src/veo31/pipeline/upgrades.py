"""Upgrades: a 1080p or 4K rendition of a finished generation, made by its provider from the same task.

An upgrade is a generation of its own (`upgrade_of` names its source), so it is tracked, retried, stored and
verified like any other; the source lists its renditions. Only a finished generation of a provider that offers
the resolution can be upgraded, and only upwards; asking again for a rendition that exists or is under way
returns that one, so a second click never pays twice.
"""

from __future__ import annotations

import asyncio

from veo31.domain import RESOLUTION_RANK, Generation, Status
from veo31.errors import CapabilityError, ConflictError
from veo31.pipeline.runtime import Runtime
from veo31.providers.registry import known
from veo31.store import generations as store
from veo31.store.request_keys import RequestKey


async def source_of(runtime: Runtime, generation: Generation) -> Generation:
    """The generation an upgrade is made from: asking to upgrade a rendition means upgrading its source."""
    if generation.upgrade_of:
        return await asyncio.to_thread(store.get_generation, runtime.engine, generation.upgrade_of)
    return generation


def check_upgradable(source: Generation, resolution: str) -> None:
    entry = known(source.provider)
    label = entry.label if entry else "this provider"
    offered = entry.capabilities.upgrades if entry else ()
    if resolution not in offered:
        if not offered:
            raise CapabilityError(
                f"{label} cannot upgrade a finished video; generate it again at the resolution you need",
                field="resolution",
            )
        raise CapabilityError(
            f"{label} upgrades to {', '.join(offered)}, not {resolution}", field="resolution", allowed=list(offered)
        )
    if source.status is not Status.COMPLETED or not source.provider_task_id:
        raise ConflictError(f"only a finished video can be upgraded; generation {source.id} is {source.status.value}")
    if RESOLUTION_RANK[source.spec.resolution] >= RESOLUTION_RANK[resolution]:
        raise ConflictError(f"generation {source.id} is already {source.spec.resolution}; nothing to upgrade")


async def renditions_at(runtime: Runtime, source: Generation, resolution: str) -> list[Generation]:
    renditions = await asyncio.to_thread(store.upgrades_of, runtime.engine, [source.id])
    return [rendition for rendition in renditions[source.id] if rendition.spec.resolution == resolution]


def live_rendition(renditions: list[Generation]) -> Generation | None:
    """The rendition finished or under way (a failed or canceled one can be asked again)."""
    return next((r for r in renditions if r.status not in (Status.FAILED, Status.CANCELED)), None)


async def create_upgrade(
    runtime: Runtime, source: Generation, resolution: str, earlier: int, request_key: RequestKey | None = None
) -> tuple[Generation, bool]:
    """The rendition, created now (True) — or the one a racing request created a moment before (False): racing
    requests count the same `earlier` renditions, so they derive one key and make one generation."""
    spec = source.spec.model_copy(update={"resolution": resolution})
    return await asyncio.to_thread(
        store.create_generation,
        runtime.engine,
        spec=spec,
        references=source.references,
        provider=source.provider or "",
        mode=source.mode or "text",
        upgrade_of=source.id,
        prompt=source.prompt,
        negative_prompt=source.negative_prompt,
        idempotency_key=f"veo31:upgrade:{source.id}:{resolution}:{earlier}",
        request_key=request_key,
    )
