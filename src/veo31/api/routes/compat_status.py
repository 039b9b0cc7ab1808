"""The old system's status routes, /veo31/kie-status/{id} and /veo31/status/{id}: our generation id or a raw
provider task id → processing | completed | failed | unknown, with `video_url` (ours once the video is stored)."""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from veo31.api.deps import ServiceDep, SettingsDep, TokenDep, generation_links
from veo31.api.routes.compat import OLD_PROVIDER_NAMES, PROVIDER_ALIASES, old_status
from veo31.domain import ProviderState, ProviderStatus, Status
from veo31.errors import NotFoundError, TaskNotFoundError

router = APIRouter(prefix="/veo31", tags=["compatibility (/veo31)"], dependencies=[TokenDep])


async def status_answer(request: Request, settings: Any, service: Any, task_id: str, provider: str) -> dict[str, Any]:
    generation = await service.find(task_id)
    if generation is not None:
        links = generation_links(request, settings, generation)
        body: dict[str, Any] = {
            "provider": OLD_PROVIDER_NAMES.get(generation.provider or "", generation.provider),
            "task_id": task_id,
            "status": old_status(generation.status),
            "video_url": links["video"],
            "provider_video_url": generation.provider_video_url,
            "generation_id": generation.id,
            "provider_task_id": generation.provider_task_id,
            "stage": generation.status.value,
            "poster_url": links["poster"],
            "download_url": links["download"],
        }
        if generation.error_message:
            body["error"] = generation.error_message
        elif generation.status is Status.NEEDS_REVIEW:
            said = generation.history[-1].detail if generation.history else None
            body["error"] = f"{said or 'needs review'} — approve or reject it on veo31's page"
        return body
    status = await ask_provider(request, service, provider, task_id)
    body = {
        "provider": OLD_PROVIDER_NAMES.get(provider, provider),
        "task_id": task_id,
        "status": {
            ProviderState.GENERATING: "processing",
            ProviderState.SUCCEEDED: "completed",
            ProviderState.FAILED: "failed",
        }.get(status.state, "unknown"),
        "video_url": status.video_url,
        "provider_video_url": status.video_url,
        "generation_id": None,
        "note": "this task was not started by veo31, so its video is not kept in veo31's storage",
    }
    if status.error is not None:
        body["error"] = status.error.message
    return body


# A provider task id as the providers make them (Kie: "veo_task_…" or a hex id; Google: an operation id). Anything
# else is refused before a provider is asked: each question spends the account's rate budget.
TASK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{3,127}")
MISS_SECONDS = 60.0


class RecentMisses:
    """Task ids a provider recently said it does not know, so asking again within a minute costs it nothing."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self.seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    def recent(self, key: tuple[str, str]) -> bool:
        at = self.seen.get(key)
        return at is not None and time.monotonic() - at < MISS_SECONDS

    def add(self, key: tuple[str, str]) -> None:
        self.seen[key] = time.monotonic()
        self.seen.move_to_end(key)
        while len(self.seen) > self.size:
            self.seen.popitem(last=False)


async def ask_provider(request: Request, service: Any, provider: str, task_id: str) -> ProviderStatus:
    """A provider's status of a task veo31 does not track — only for an id of a task id's shape, and not again
    within a minute of the provider saying it has no such task."""
    if not TASK_ID.fullmatch(task_id):
        raise NotFoundError(
            f"no generation or task {task_id[:40]!r}: a task id is 4–128 letters, digits, '_', '-' or '.'"
        )
    misses: RecentMisses = request.app.state.task_misses
    key = (provider, task_id)
    if misses.recent(key):
        raise NotFoundError(f"no generation or task {task_id!r} (the provider said so less than a minute ago)")
    try:
        return await service.provider_status(provider, task_id)
    except (NotFoundError, TaskNotFoundError):
        misses.add(key)
        raise


@router.get("/kie-status/{task_id}")
async def kie_status(task_id: str, request: Request, service: ServiceDep, settings: SettingsDep) -> dict[str, Any]:
    """Our generation id or a raw Kie.ai task id → processing | completed | failed | unknown, with `video_url`."""
    return await status_answer(request, settings, service, task_id, "kie")


@router.get("/status/{task_id}")
async def status(
    task_id: str,
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    provider: Annotated[str, Query(description="kie (kie.ai) or google (gemini)")] = "kie",
) -> dict[str, Any]:
    return await status_answer(request, settings, service, task_id, PROVIDER_ALIASES.get(provider.lower(), "kie"))
