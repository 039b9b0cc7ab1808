"""Deliverables: a finished video made ready for a channel (`finishing.presets`), each a generation of its own
(`deliverable_of` names its source, `preset` the channel) — tracked, stored, verified and served like any video,
made on the finishing queue, free. One per source and preset: asking again answers the one that exists or is under
way (a failed one may be asked again). Only a finished video is delivered; one held by the quality gate is once a
person approved it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from veo31.domain import Generation, Status
from veo31.errors import ConflictError, InputError
from veo31.finishing.presets import PRESETS
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


async def create_deliverables(
    runtime: Runtime, source: Generation, presets: Sequence[str]
) -> list[tuple[Generation, bool]]:
    """Each preset's deliverable: the one that exists or is under way (False), or a new one (True). Racing requests
    count the same earlier deliverables, so they derive one key and make one generation."""
    made = (await asyncio.to_thread(store.deliverables_of, runtime.engine, [source.id]))[source.id]
    answers = []
    for preset in presets:
        earlier = [item for item in made if item.preset == preset]
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
                prompt=source.prompt,
                cost_estimate_usd=0.0,
                cost_basis=FREE,
                idempotency_key=f"veo31:deliver:{source.id}:{preset}:{len(earlier)}",
            )
        )
    return answers
