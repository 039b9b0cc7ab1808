"""Provider tasks veo31 does not track — started elsewhere, or by the old system — asked about and fetched directly,
for the old status routes and `veo31 fetch <task id>`. Nothing is stored."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from veo31.domain import MAX_VIDEO_BYTES, ProviderState, ProviderStatus
from veo31.errors import ConflictError, NotFoundError
from veo31.media.probe import probe_video
from veo31.pipeline.runtime import Runtime
from veo31.providers.registry import label_of


async def provider_status(runtime: Runtime, provider: str, task_id: str) -> ProviderStatus:
    if provider not in runtime.providers:
        raise NotFoundError(
            f"no generation or task {task_id!r}, and {label_of(provider) or provider} is not configured here to ask"
        )
    return await runtime.providers[provider].status(task_id)


async def download_task(runtime: Runtime, provider: str, task_id: str, target: Path) -> dict[str, Any]:
    status = await provider_status(runtime, provider, task_id)
    if status.state is not ProviderState.SUCCEEDED or not status.video_url:
        label = label_of(provider) or provider
        raise ConflictError(f"{label} task {task_id} is {status.state.value}; there is no video yet")
    size = await runtime.providers[provider].download(status.video_url, target, max_bytes=MAX_VIDEO_BYTES)
    info = await asyncio.to_thread(probe_video, target)
    return {"width": info.width, "height": info.height, "duration": info.duration, "bytes": size}
