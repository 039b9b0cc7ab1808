"""Generations as the API shows them: with their links and their 1080p / 4K renditions."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from fastapi import Request

from veo31.api.deps import attempt_links, generation_links
from veo31.api.schemas import GenerationPublic, deliverable, rendition
from veo31.config import Settings
from veo31.domain import Generation
from veo31.pipeline.service import GenerationService


async def present_many(
    request: Request, settings: Settings, service: GenerationService, generations: Sequence[Generation]
) -> list[GenerationPublic]:
    ids = [generation.id for generation in generations]
    renditions, deliverables = await asyncio.gather(service.upgrades_of(ids), service.deliverables_of(ids))
    return [
        shown(request, settings, generation, renditions.get(generation.id, []), deliverables.get(generation.id, []))
        for generation in generations
    ]


async def present_by_id(
    request: Request, settings: Settings, service: GenerationService, generation_id: str
) -> GenerationPublic:
    return shown(request, settings, *await service.view(generation_id))


def shown(
    request: Request,
    settings: Settings,
    generation: Generation,
    renditions: Sequence[Generation],
    deliverables: Sequence[Generation] = (),
) -> GenerationPublic:
    return GenerationPublic.of(
        generation,
        generation_links(request, settings, generation),
        [rendition(r, generation_links(request, settings, r)) for r in renditions],
        attempt_links(request, settings, generation),
        [deliverable(d, generation_links(request, settings, d)) for d in deliverables],
    )


async def present(
    request: Request, settings: Settings, service: GenerationService, generation: Generation
) -> GenerationPublic:
    return (await present_many(request, settings, service, [generation]))[0]
