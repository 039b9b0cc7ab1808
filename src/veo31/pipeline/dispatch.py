"""The outbox's reader: every worker looks for events not yet dispatched, gives each its type and body once, starts
its delivery to every endpoint that wants it, and tells a batch whose last product just settled that it finished.

Any worker may pick an event up, and two may pick the same one: the body is written once, each delivery's
workflow id is (endpoint, event), so both start one delivery; the event is marked dispatched only after every
delivery started — a worker killed midway leaves it for the next look.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from veo31.domain import Generation, Status
from veo31.errors import NotFoundError
from veo31.pipeline import batches
from veo31.pipeline.links import public_base, quality_verdict
from veo31.pipeline.runtime import Runtime
from veo31.pipeline.webhooks import EventType, envelope, start_delivery
from veo31.store import batches as batch_store, events as outbox, generations, webhooks as store
from veo31.store.events import Event

log = logging.getLogger("veo31.dispatch")
AT_ONCE = 16  # events described and their deliveries started side by side: most of it is waiting on the database


async def dispatch_forever(runtime: Runtime) -> None:
    while True:
        try:
            while await dispatch(runtime):
                pass
        except Exception:  # the dispatcher must outlive one bad pass; the error is logged, and the event stays
            log.exception("dispatching events failed; trying again shortly")
        await asyncio.sleep(runtime.settings.webhook_dispatch_seconds)


async def dispatch(runtime: Runtime, limit: int = 200) -> int:
    """One look: how many events it dispatched."""
    waiting = await asyncio.to_thread(outbox.undispatched, runtime.engine, limit)
    if not waiting:
        return 0
    subscribers = await asyncio.to_thread(store.endpoints, runtime.engine)
    slots = asyncio.Semaphore(AT_ONCE)

    async def one(event: Event) -> str | None:
        async with slots:
            event_type, payload, batch_id = await describe(runtime, event)
            settled = await asyncio.to_thread(outbox.settle, runtime.engine, event.id, event_type, payload)
            for endpoint in subscribers:
                if settled.type is not None and settled.type in endpoint.events:
                    await start_delivery(runtime, endpoint.id, event.id)
            return batch_id

    touched = await asyncio.gather(*(one(event) for event in waiting))
    done, batches_touched = [event.id for event in waiting], {batch_id for batch_id in touched if batch_id}
    await asyncio.to_thread(outbox.mark_dispatched, runtime.engine, done)
    for batch_id in batches_touched:  # once per batch and look, not once per product that settled
        await batches.announce_if_finished(runtime, batch_id)
    return len(done)


async def describe(runtime: Runtime, event: Event) -> tuple[str | None, dict[str, Any] | None, str | None]:
    """The event's type and body (None, None: nothing to announce, such as a failed deliverable), and the batch
    of the generation it tells of."""
    if event.topic.startswith("batch:"):
        if event.payload is not None:
            return event.type, event.payload, None
        body = await _batch_body(runtime, event.subject_id)
        body["data"]["at"] = _iso(event.created_at)
        return EventType.BATCH_COMPLETED.value, body, None
    belongs = await asyncio.to_thread(batch_store.batch_of, runtime.engine, event.subject_id)
    batch_id = belongs[0] if belongs else None
    if event.payload is not None:
        return event.type, event.payload, batch_id
    try:
        generation = await asyncio.to_thread(
            generations.get_generation, runtime.engine, event.subject_id, history=False
        )
    except NotFoundError:
        return None, None, batch_id
    event_type = _type_of(generation, Status(event.status))
    if event_type is None:
        return None, None, batch_id
    data = {**_generation_data(runtime, generation, Status(event.status)), "at": _iso(event.created_at)}
    if belongs is not None:
        data.update(batch_id=belongs[0], product_id=belongs[1].product_id)
    return event_type.value, envelope(event_type, data), batch_id


def _type_of(generation: Generation, status: Status) -> EventType | None:
    if generation.deliverable_of:
        return EventType.DELIVERABLE_COMPLETED if status is Status.COMPLETED else None
    return {
        Status.COMPLETED: EventType.GENERATION_COMPLETED,
        Status.FAILED: EventType.GENERATION_FAILED,
        Status.NEEDS_REVIEW: EventType.GENERATION_NEEDS_REVIEW,
    }.get(status)


def _generation_data(runtime: Runtime, generation: Generation, status: Status) -> dict[str, Any]:
    base = public_base(runtime.settings)
    root = f"{base}/v1/generations/{generation.id}"
    has_video = status in (Status.COMPLETED, Status.NEEDS_REVIEW) and bool(generation.video_key)
    data: dict[str, Any] = {
        "id": generation.id,
        "status": status.value,
        "product_name": generation.spec.product_name,
        "url": root,
        "video_url": f"{root}/video" if has_video else None,
        "poster_url": f"{root}/poster.jpg" if has_video and generation.poster_key else None,
        "quality": quality_verdict(generation.quality),
        "cost_usd": generation.cost_usd,
    }
    if status is Status.FAILED:
        data["error"] = {"kind": generation.error_kind, "message": generation.error_message}
    if generation.deliverable_of:
        data.update(deliverable_of=generation.deliverable_of, preset=generation.preset)
    if generation.upgrade_of:
        data.update(upgrade_of=generation.upgrade_of, resolution=generation.spec.resolution)
    return data


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def _batch_body(runtime: Runtime, batch_id: str) -> dict[str, Any]:
    seen = await batches.view(runtime, batch_id)
    base = public_base(runtime.settings)
    return envelope(
        EventType.BATCH_COMPLETED,
        {
            "id": batch_id,
            "products": seen.products,
            "counts": seen.tally.counts,
            "spent_usd": seen.tally.spent_usd,
            "results_url": f"{base}/v1/batches/{batch_id}/results.json",
            "results_csv_url": f"{base}/v1/batches/{batch_id}/results.csv",
        },
    )
