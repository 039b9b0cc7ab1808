"""Live status over Server-Sent Events: one `status` event now and one per change, until the generation ends."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from veo31.api.deps import GenerationIdDep, ServiceDep, SettingsDep, TokenDep
from veo31.api.present import present

router = APIRouter(prefix="/v1/generations", tags=["generations"], dependencies=[TokenDep])


@router.get(
    "/{generation_id}/events",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def events(
    generation_id: GenerationIdDep, request: Request, service: ServiceDep, settings: SettingsDep
) -> EventSourceResponse:
    """Each event's data is the generation (as GET /v1/generations/{id} answers); the stream ends with it."""
    await service.get(generation_id)  # 404 before the stream starts, not inside it

    async def stream() -> AsyncIterator[ServerSentEvent]:
        async for generation in service.watch(generation_id):
            data = await present(request, settings, service, generation)
            yield ServerSentEvent(data=data.model_dump_json(), event="status", id=str(len(generation.history)))

    return EventSourceResponse(stream(), ping=10)
