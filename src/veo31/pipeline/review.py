"""A person's verdict on a video the quality gate held (`needs_review`): approved, it is completed; rejected, the
generation fails with the reviewer's reason and its video is kept (it was paid for), ready to be retried."""

from __future__ import annotations

import asyncio
import enum

from veo31.domain import Generation, Status
from veo31.errors import ConflictError
from veo31.pipeline.runtime import Runtime
from veo31.store import generations as store


class Verdict(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


async def review(runtime: Runtime, generation_id: str, verdict: Verdict, note: str | None) -> Generation:
    """Apply `verdict` to a held generation; anything else is refused, saying where it stands."""
    generation = await asyncio.to_thread(store.get_generation, runtime.engine, generation_id)
    if generation.status is not Status.NEEDS_REVIEW:
        raise ConflictError(
            f"generation {generation_id} is {generation.status.value}; only one that needs review can be approved "
            "or rejected"
        )
    said = f": {note}" if note else ""
    if verdict is Verdict.APPROVE:
        moved = await runtime.set_status(generation_id, Status.COMPLETED, f"approved in review{said}")
    else:
        reason = note or "the video does not show the product as it should"
        moved = await runtime.set_status(
            generation_id,
            Status.FAILED,
            f"rejected in review{said}",
            error_kind="rejected",
            error_message=f"rejected in review: {reason}; the video is kept — retry for a new one",
        )
    if not moved:  # another reviewer was quicker
        latest = await asyncio.to_thread(store.get_generation, runtime.engine, generation_id)
        raise ConflictError(f"generation {generation_id} was {latest.status.value} meanwhile; nothing changed")
    return await asyncio.to_thread(store.get_generation, runtime.engine, generation_id)
