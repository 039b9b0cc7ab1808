"""What every step needs: the generation as a step reads it, failing it with a reason, recording its task, the
callback URL a provider is given and how often a task is asked about."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from veo31.domain import Generation, Status
from veo31.errors import (
    Veo31Error,
)
from veo31.pipeline.runtime import Runtime
from veo31.store import changes, generations as store
from veo31.store.tables import utcnow

log = logging.getLogger("veo31.pipeline")


async def load(runtime: Runtime, generation_id: str) -> Generation:
    """The generation as a step needs it: without its history, which no step reads."""
    return await asyncio.to_thread(lambda: store.get_generation(runtime.engine, generation_id, history=False))


async def fail(runtime: Runtime, generation_id: str, error: Veo31Error, *, stage: str) -> None:
    await runtime.set_status(
        generation_id, Status.FAILED, f"{stage}: {error.message}", error_kind=error.kind, error_message=error.message
    )


def callback_url(runtime: Runtime, generation: Generation) -> str | None:
    """Where the provider may call back; only when a public URL is set (otherwise we poll)."""
    public = runtime.settings.public_url
    if not public or not generation.provider:
        return None
    return f"{public}/v1/callbacks/{generation.provider}/{generation.callback_token}"


async def record_task(
    runtime: Runtime,
    generation_id: str,
    provider: str,
    label: str,
    task_id: str,
    detail: str | None = None,
    *,
    generating: bool = False,
) -> None:
    deadline = utcnow() + timedelta(seconds=runtime.settings.generation_deadline_seconds)
    await runtime.record(
        generation_id,
        changes.record_submission,
        provider=provider,
        task_id=task_id,
        detail=detail or f"{label} task {task_id}",
        deadline_at=deadline,
        generating=generating,
    )


def poll_schedule(runtime: Runtime, provider: str) -> list[float]:
    """How long to wait for a callback before asking the provider: [first, longest] (the waits grow between)."""
    settings = runtime.settings
    hint = runtime.provider(provider).poll_seconds
    if hint is None:
        return [settings.first_poll_seconds, settings.max_poll_seconds]
    return [min(hint, settings.first_poll_seconds), min(hint, settings.max_poll_seconds)]
