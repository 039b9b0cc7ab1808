"""Deliverables: a finished video made ready for a channel (`finishing.presets`), each a generation of its own
(`deliverable_of` names its source, `preset` the channel) — tracked, stored, verified and served like any video,
made on the finishing queue, free. One per source and preset: asking again answers the one that exists or is under
way (a failed one may be asked again). Only a finished video is delivered; one held by the quality gate is once a
person approved it."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from veo31.domain import Generation, Status
from veo31.errors import ConflictError, InputError
from veo31.finishing.presets import PRESETS
from veo31.pipeline.brand_kits import branding_for
from veo31.pipeline.launch import enqueue
from veo31.pipeline.runtime import Runtime
from veo31.store import generations as store

FREE = "made here from the finished video: free"


def check_presets(presets: Sequence[str]) -> list[str]:
    """The presets asked for, each once and in order; an unknown name is refused, listing the known ones."""
    if not presets:
        raise InputError(f"name at least one preset: {', '.join(PRESETS)}", field="presets")
    unknown = [name for name in presets if name not in PRESETS]
    if unknown:
        raise InputError(
            f"no preset {', '.join(repr(name) for name in unknown)}; the presets are {', '.join(PRESETS)}",
            field="presets",
        )
    return list(dict.fromkeys(presets))


def check_deliverable(source: Generation) -> None:
    if source.deliverable_of:
        raise ConflictError(f"generation {source.id} is a deliverable; deliver from {source.deliverable_of}")
    if source.status is Status.NEEDS_REVIEW:
        raise ConflictError(f"generation {source.id} needs review: approve its video before delivering it")
    if source.status is not Status.COMPLETED or not source.video_key:
        raise ConflictError(f"only a finished video can be delivered; generation {source.id} is {source.status.value}")
    if source.quality_failed:
        checks = (source.quality or {}).get("checks", [])
        failed = "; ".join(check["message"] for check in checks if not check["passed"])
        raise ConflictError(
            f"generation {source.id}'s video failed the quality checks ({failed}); approve it first if it is right"
        )


@dataclass(frozen=True)
class Finish:
    """How deliverables are finished: a brand kit and the price it shows, and bars (letterbox) instead of a backdrop
    extended from the picture where the channel's shape is wider or taller than the video allows."""

    brand_kit: str | None = None
    price: str | None = None
    letterbox: bool = False


async def deliver(
    runtime: Runtime, source: Generation, presets: Sequence[str], finish: Finish = Finish()
) -> list[tuple[Generation, bool]]:
    """Each preset's deliverable of a finished video, made now (True) or the one that exists (False); the new ones
    are started on the finishing queue."""
    chosen = check_presets(presets)
    check_deliverable(source)
    branding = await branding_for(runtime, finish.brand_kit, finish.price)
    if finish.letterbox:
        branding = {**(branding or {}), "letterbox": True}
    made = await create_deliverables(runtime, source, chosen, branding)
    for generation in (generation for generation, created in made if created):
        await enqueue(runtime, generation)
    return made


async def create_deliverables(
    runtime: Runtime, source: Generation, presets: Sequence[str], branding: dict[str, Any] | None = None
) -> list[tuple[Generation, bool]]:
    """Each preset's deliverable (with this branding: kit version and price): the one that exists or is under way
    (False), or a new one (True). Racing requests count the same earlier deliverables, so they derive one key and
    make one generation."""
    made = (await asyncio.to_thread(store.deliverables_of, runtime.engine, [source.id]))[source.id]
    mark = _mark(branding)
    answers = []
    for preset in presets:
        earlier = [item for item in made if item.preset == preset and _mark(item.branding) == mark]
        live = next((item for item in earlier if item.status not in (Status.FAILED, Status.CANCELED)), None)
        if live is not None:
            answers.append((live, False))
            continue
        answers.append(
            await asyncio.to_thread(
                store.create_generation,
                runtime.engine,
                spec=source.spec,
                references=source.references,
                provider=source.provider or "",
                mode=source.mode or "text",
                deliverable=(source.id, preset),
                branding=branding,
                prompt=source.prompt,
                cost_estimate_usd=0.0,
                cost_basis=FREE,
                idempotency_key=f"veo31:deliver:{source.id}:{preset}:{mark}:{len(earlier)}",
            )
        )
    return answers


def _mark(branding: dict[str, Any] | None) -> str:
    """What tells deliverables of one preset apart: the kit, its version and the price, and bars asked for (short,
    for a key)."""
    if not branding:
        return "plain"
    said = [branding.get("kit"), branding.get("version"), branding.get("price")]
    if branding.get("letterbox"):
        said.append("letterbox")
    return hashlib.sha256(json.dumps(said).encode()).hexdigest()[:16]
