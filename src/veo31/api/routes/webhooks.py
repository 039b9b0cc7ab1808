"""/v1/webhooks: endpoints that receive signed events (Standard Webhooks). The secret is in the answer to the
registration and to a rotation, and nowhere else; each endpoint's deliveries list every attempt, and an event can
be sent again by hand."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from veo31.api.deps import ServiceDep, TokenDep, read_json
from veo31.errors import InputError
from veo31.pipeline.webhooks import EventType
from veo31.store.webhooks import Endpoint

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], dependencies=[TokenDep])
EVENTS = [kind.value for kind in EventType]


class EndpointCreate(BaseModel):
    url: str = Field(max_length=2048, description="where events are POSTed (http(s), a public address)")
    events: list[str] = Field(description=f"which events: {', '.join(EVENTS)}", max_length=len(EVENTS))


class EndpointPublic(BaseModel):
    id: str
    url: str
    events: list[str]
    created_at: datetime


class EndpointCreated(EndpointPublic):
    secret: str = Field(description="whsec_… — verify signatures with it; shown only now")


class Rotated(BaseModel):
    id: str
    secret: str = Field(description="the new whsec_… secret; shown only now")
    previous_valid_until: str = Field(description="until when the previous secret also signs (ISO time)")


def shown(endpoint: Endpoint) -> EndpointPublic:
    return EndpointPublic(id=endpoint.id, url=endpoint.url, events=endpoint.events, created_at=endpoint.created_at)


@router.post("", status_code=201, response_model=EndpointCreated)
async def register(request: Request, service: ServiceDep) -> EndpointCreated:
    """Register a receiver for the events it names; the answer holds its signing secret, this once."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InputError('send a JSON object: {"url": …, "events": [...]}')
    url, events = body.get("url"), body.get("events")
    if not isinstance(url, str) or not url.strip():
        raise InputError("give the receiver's URL (url)", field="url")
    if isinstance(events, str):
        events = [part.strip() for part in events.split(",") if part.strip()]
    if not isinstance(events, list) or not all(isinstance(item, str) for item in events):
        raise InputError(f"events is a list of event names: {', '.join(EVENTS)}", field="events")
    endpoint, secret = await service.webhooks.register(url.strip(), events)
    return EndpointCreated(**shown(endpoint).model_dump(), secret=secret)


class EndpointList(BaseModel):
    items: list[EndpointPublic]
    events: list[str] = Field(description="every event veo31 sends")


@router.get("", response_model=EndpointList)
async def list_endpoints(service: ServiceDep) -> EndpointList:
    return EndpointList(items=[shown(item) for item in await service.webhooks.list()], events=EVENTS)


@router.get("/{endpoint_id}", response_model=EndpointPublic)
async def get_endpoint(endpoint_id: str, service: ServiceDep) -> EndpointPublic:
    return shown(await service.webhooks.get(endpoint_id))


@router.delete("/{endpoint_id}", status_code=204, response_class=Response)
async def delete_endpoint(endpoint_id: str, service: ServiceDep) -> Response:
    """No more events go there (deliveries under way stop at their next attempt)."""
    await service.webhooks.delete(endpoint_id)
    return Response(status_code=204)


@router.post("/{endpoint_id}/rotate", response_model=Rotated)
async def rotate(endpoint_id: str, service: ServiceDep) -> Rotated:
    """A new secret; the previous one keeps signing beside it for VEO31_WEBHOOK_SECRET_OVERLAP_SECONDS."""
    secret, until = await service.webhooks.rotate(endpoint_id)
    return Rotated(id=endpoint_id, secret=secret, previous_valid_until=until)


class AttemptPublic(BaseModel):
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    by_hand: bool


class DeliveryPublic(BaseModel):
    event_id: str = Field(description="the webhook-id header: the same on every attempt")
    event_type: str | None
    state: str = Field(description="pending, delivered, retrying or failed")
    attempts: list[AttemptPublic]
    created_at: datetime


class DeliveryList(BaseModel):
    items: list[DeliveryPublic]


@router.get("/{endpoint_id}/deliveries", response_model=DeliveryList)
async def deliveries(
    endpoint_id: str, service: ServiceDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> DeliveryList:
    """The latest deliveries, newest first, each with every attempt."""
    found = await service.webhooks.deliveries(endpoint_id, limit)
    return DeliveryList(
        items=[
            DeliveryPublic(
                event_id=item.event_id,
                event_type=item.event_type,
                state=item.state,
                attempts=[
                    AttemptPublic(
                        at=a.at, status_code=a.status_code, error=a.error, duration_ms=a.duration_ms, by_hand=a.manual
                    )
                    for a in item.attempts
                ],
                created_at=item.created_at,
            )
            for item in found
        ]
    )


@router.post("/{endpoint_id}/deliveries/{event_id}/redeliver", status_code=202)
async def redeliver(endpoint_id: str, event_id: str, service: ServiceDep) -> dict[str, str]:
    """Send the event to the endpoint again now, signed afresh, with the same webhook-id."""
    await service.webhooks.redeliver(endpoint_id, event_id)
    return {"endpoint_id": endpoint_id, "event_id": event_id, "state": "sending"}
