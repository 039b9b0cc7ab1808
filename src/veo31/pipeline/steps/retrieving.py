"""Retrieving a finished video: download (a fresh link when the old one expired), verify by decoding, poster, and
store both atomically."""

from __future__ import annotations

import asyncio
import functools
import os
from typing import Any

from dbos import DBOS

from veo31.config import QualityGate
from veo31.domain import MAX_VIDEO_BYTES, Generation, Status
from veo31.errors import (
    InvalidMediaError,
    ProviderConnectionError,
    ResultExpiredError,
    StorageError,
    Veo31Error,
)
from veo31.media import processes
from veo31.media.probe import probe_video
from veo31.pipeline.costs import (
    COST_FIELDS,
    final_cost,
)
from veo31.pipeline.outcome import WAIT, Outcome
from veo31.pipeline.runtime import Runtime, current
from veo31.pipeline.steps.common import fail, load
from veo31.providers.base import RefreshesLinks

RETRIEVE_POLICY: dict[str, Any] = dict(
    retries_allowed=True,
    max_attempts=WAIT.retrieve_attempts,
    interval_seconds=WAIT.retrieve_interval_seconds,
    should_retry=lambda error: isinstance(error, ProviderConnectionError | StorageError),
)


@DBOS.step(**RETRIEVE_POLICY)
async def retrieve(generation_id: str, task_id: str) -> bool:
    """Download the finished video, verify it by decoding it, write its poster, store both atomically."""
    runtime = current()
    generation = await load(runtime, generation_id)
    if generation.status in (Status.COMPLETED, Status.CANCELED):
        return generation.status is Status.COMPLETED
    return await retrieve_now(runtime, generation, task_id, {}, gated=False) is Outcome.COMPLETED


async def retrieve_now(
    runtime: Runtime, generation: Generation, task_id: str, found: dict[str, Any], *, gated: bool
) -> Outcome:
    """Retrieve (see `retrieve`) from the link in `found` (what the finishing check learnt, written with the move
    to retrieving), else the one recorded, else a fresh status: 'completed', 'failed', or with `gated` (unless
    VEO31_QUALITY_GATE is off) 'checking' — the video is stored and the quality gate's step comes next."""
    generation_id = generation.id
    found = {name: value for name, value in found.items() if value is not None}
    await runtime.set_status(generation_id, Status.RETRIEVING, **found)
    provider = runtime.provider(generation.provider or "")
    scratch = runtime.blobs.scratch_dir()
    video = scratch / f"{generation_id}.mp4"
    poster = scratch / f"{generation_id}.jpg"
    # An attempt after ones the quality gate set aside gets keys of its own: theirs stay where they are.
    name = f"{generation_id}-{len(generation.attempts) + 1}" if generation.attempts else generation_id
    try:
        url = found.get("provider_video_url") or generation.provider_video_url
        if not url:
            url = (await provider.status(task_id)).video_url
        if not url:
            raise ResultExpiredError(f"{provider.label} reports no video for task {task_id}", provider=provider.name)
        size = await _download(runtime, provider, generation_id, url, video)
        info = await processes.run(functools.partial(probe_video, video, poster=poster))
        await asyncio.to_thread(runtime.blobs.put_file, f"videos/{name}.mp4", video)
        await asyncio.to_thread(runtime.blobs.put_file, f"videos/{name}.jpg", poster)
    except (ProviderConnectionError, StorageError):
        raise  # transient: DBOS runs this step again
    except InvalidMediaError as error:
        await fail(
            runtime,
            generation_id,
            InvalidMediaError(f"the provider's file is not a playable video: {error.message}"),
            stage="retrieval",
        )
        return Outcome.FAILED
    except Veo31Error as error:
        await fail(runtime, generation_id, error, stage="retrieval")
        return Outcome.FAILED
    finally:
        for leftover in (video, poster):
            if leftover.exists():
                os.unlink(leftover)
    video_info: dict[str, Any] = {
        "width": info.width,
        "height": info.height,
        "duration": round(info.duration, 3),
        "fps": info.fps,
        "codec": info.codec,
        "has_audio": info.has_audio,
        "bytes": size,
    }
    checking = gated and runtime.settings.quality_gate is not QualityGate.OFF
    await runtime.set_status(
        generation_id,
        Status.CHECKING if checking else Status.COMPLETED,
        f"{info.width}×{info.height}, {info.duration:.1f} s" + ("; checking it against the photos" if checking else ""),
        video_key=f"videos/{name}.mp4",
        poster_key=f"videos/{name}.jpg",
        video_info=video_info,
        provider_video_url=url,
        **({name: found[name] for name in COST_FIELDS if name in found} or final_cost(generation)),
    )
    return Outcome.CHECKING if checking else Outcome.COMPLETED


async def _download(runtime: Runtime, provider: Any, generation_id: str, url: str, target: Any) -> int:
    """Download; if the provider's link expired, ask it for a fresh one once before giving up."""
    try:
        return await provider.download(url, target, max_bytes=MAX_VIDEO_BYTES)
    except ResultExpiredError:
        fresh = await provider.fresh_url(url) if isinstance(provider, RefreshesLinks) else None
        if not fresh:
            raise ResultExpiredError(
                f"{provider.label}'s link expired and the video is gone; generate it again", provider=provider.name
            ) from None
        await runtime.note(generation_id, "the provider's link had expired; using a fresh one")
        return await provider.download(fresh, target, max_bytes=MAX_VIDEO_BYTES)
