"""A person's verdict on a video the quality gate held (`needs_review`): approved, it is completed; rejected, the
generation fails with the reviewer's reason and its video is kept (it was paid for), ready to be retried. A video
that failed the gate but completed anyway (`VEO31_QUALITY_GATE=report`) may be approved too: it stays completed,
and the approval — which deliverables wait for — is recorded."""

from __future__ import annotations

import asyncio
import enum

from veo31.domain import Generation, Status
from veo31.errors import ConflictError
from veo31.pipeline.runtime import Runtime
from veo31.store import generations as store
from veo31.store.tables import utcnow


class Verdict(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


async def review(runtime: Runtime, generation_id: str, verdict: Verdict, note: str | None) -> Generation:
    """Apply `verdict` to a held generation; anything else is refused, saying where it stands."""
    generation = await asyncio.to_thread(store.get_generation, runtime.engine, generation_id)
    if verdict is Verdict.APPROVE and generation.status is Status.COMPLETED and generation.quality_failed:
        await runtime.update(generation_id, approved_at=utcnow())
        await runtime.note(generation_id, f"approved in review{f': {note}' if note else ''}")
        return await asyncio.to_thread(store.get_generation, runtime.engine, generation_id)
    if generation.status is not Status.NEEDS_REVIEW:
        raise ConflictError(
            f"generation {generation_id} is {generation.status.value}; only one that needs review can be approved "
            "or rejected"
        )
    said = f": {note}" if note else ""
    if verdict is Verdict.APPROVE:
        moved = await runtime.set_status(
            generation_id, Status.COMPLETED, f"approved in review{said}", approved_at=utcnow()
        )
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
