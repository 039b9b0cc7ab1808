"""Signed webhooks out (Standard Webhooks): endpoints registered with the events they want, and one durable DBOS
workflow per delivery of an event to an endpoint — tried at once, then again after each of
VEO31_WEBHOOK_RETRY_SECONDS' growing waits (DBOS sleeps survive a kill -9), every attempt logged.

Every attempt of one event carries the same `webhook-id` and body, so a receiver drops a repeat by its id; the
receiver's URL passes the same SSRF guard as an image URL, at registration and again at each attempt (a name can
come to resolve elsewhere). Secrets sign and are shown once; they never reach a log or an answer.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
from datetime import timedelta
from enum import StrEnum
from typing import Any

import httpx
from dbos import DBOS, SetWorkflowID

from veo31 import __version__
from veo31.errors import InputError, UnsafeUrlError, Veo31Error
from veo31.media.intake import AddressPolicy, checked_address, checked_url, tls_context
from veo31.pipeline.runtime import BACKGROUND, Runtime, current
from veo31.pipeline.webhook_signing import new_secret, signed_headers
from veo31.store import events as outbox, webhooks as store
from veo31.store.events import Event
from veo31.store.tables import utcnow
from veo31.store.webhooks import Endpoint

log = logging.getLogger("veo31.webhooks")
MAX_RESPONSE_NOTE = 200  # characters of a refusing receiver's answer kept in the attempt's log


class EventType(StrEnum):
    GENERATION_COMPLETED = "generation.completed"
    GENERATION_FAILED = "generation.failed"
    GENERATION_NEEDS_REVIEW = "generation.needs_review"
    DELIVERABLE_COMPLETED = "deliverable.completed"
    BATCH_COMPLETED = "batch.completed"


class Delivered(StrEnum):
    DELIVERED = "delivered"  # the receiver answered 2xx
    RETRYING = "retrying"  # it did not; another attempt is due
    FAILED = "failed"  # the last attempt did not either: given up (redeliver by hand)
    GONE = "gone"  # the endpoint was deleted meanwhile


def _policy(runtime: Runtime) -> AddressPolicy:
    settings = runtime.settings
    networks = tuple(ipaddress.ip_network(n, strict=False) for n in settings.allowed_private_networks)
    return AddressPolicy(settings.allow_private_urls, networks)


async def checked_receiver(runtime: Runtime, url: str) -> str:
    """The receiver's URL once the SSRF guard passed it (http(s), every address it resolves to public)."""
    try:
        parsed = checked_url(url, field="url")
        await checked_address(parsed, _policy(runtime))
    except (UnsafeUrlError, InputError) as error:
        error.field = "url"
        raise
    return str(parsed)


def checked_events(names: list[str]) -> list[str]:
    known = [kind.value for kind in EventType]
    if not names:
        raise InputError(f"choose at least one event: {', '.join(known)}", field="events")
    unknown = [name for name in names if name not in known]
    if unknown:
        raise InputError(f"{unknown[0]!r} is no event veo31 sends; the events are {', '.join(known)}", field="events")
    return sorted(set(names), key=known.index)


async def register(runtime: Runtime, url: str, names: list[str]) -> tuple[Endpoint, str]:
    """A new endpoint and its secret — the only time the secret is shown."""
    events = checked_events(names)
    receiver = await checked_receiver(runtime, url)
    secret = new_secret()
    endpoint = await asyncio.to_thread(store.add_endpoint, runtime.engine, receiver, events, secret)
    return endpoint, secret


async def rotate(runtime: Runtime, endpoint_id: str) -> tuple[str, str]:
    """A new secret for the endpoint; the old one still signs until the overlap ends (returned, ISO time)."""
    secret = new_secret()
    until = utcnow() + timedelta(seconds=runtime.settings.webhook_secret_overlap_seconds)
    await asyncio.to_thread(store.rotate, runtime.engine, endpoint_id, secret, until)
    return secret, until.isoformat()


async def start_delivery(runtime: Runtime, endpoint_id: str, event_id: str) -> None:
    """The event's delivery to the endpoint, started once (its workflow id is the pair), here and now: a worker
    dispatches, and a queue's polling would add its period to every delivery's delay."""
    await asyncio.to_thread(store.open_delivery, runtime.engine, endpoint_id, event_id)
    delays = list(runtime.settings.webhook_retry_seconds)
    with SetWorkflowID(f"webhook-{endpoint_id}-{event_id}"):
        await DBOS.start_workflow_async(delivery_workflow, endpoint_id, event_id, delays)


async def redeliver(runtime: Runtime, endpoint_id: str, event_id: str) -> None:
    """Send an event again by hand, once, now (its own workflow: the automatic one may still be waiting)."""
    await asyncio.to_thread(store.get_endpoint, runtime.engine, endpoint_id)
    if not await asyncio.to_thread(store.delivery_exists, runtime.engine, endpoint_id, event_id):
        raise InputError(f"endpoint {endpoint_id} was never sent event {event_id}", field="event id")
    number = await asyncio.to_thread(store.manual_attempts, runtime.engine, endpoint_id, event_id)
    with SetWorkflowID(f"webhook-{endpoint_id}-{event_id}-by-hand-{number + 1}"):
        await runtime.queue(BACKGROUND).enqueue_async(delivery_workflow, endpoint_id, event_id, [], True)


@DBOS.workflow(name="veo31.webhook_delivery.v1")
async def delivery_workflow(endpoint_id: str, event_id: str, delays: list[float], manual: bool = False) -> str:
    """Attempt at once, then after each wait, until the receiver takes it (or the endpoint is gone)."""
    outcome = Delivered.FAILED
    waits = [0.0, *delays]
    for number, wait in enumerate(waits):
        if wait > 0:
            await DBOS.sleep_async(wait)
        outcome = Delivered(await attempt(endpoint_id, event_id, number == len(waits) - 1, manual))
        if outcome is not Delivered.RETRYING:
            break
    return outcome.value


@DBOS.step()
async def attempt(endpoint_id: str, event_id: str, last: bool, manual: bool) -> str:
    """One POST of the event, signed with each secret in use; logged, whatever came of it."""
    runtime = current()
    try:
        endpoint = await asyncio.to_thread(store.get_endpoint, runtime.engine, endpoint_id)
    except Veo31Error:
        return Delivered.GONE.value
    event = await asyncio.to_thread(outbox.get, runtime.engine, event_id)
    if event is None or event.payload is None:
        raise RuntimeError(f"event {event_id} has no body to send")  # dispatch writes it before any delivery
    started = time.monotonic()
    status_code, error = await _post(runtime, endpoint, event)
    took = int((time.monotonic() - started) * 1000)
    taken = status_code is not None and 200 <= status_code < 300
    outcome = Delivered.DELIVERED if taken else (Delivered.FAILED if last else Delivered.RETRYING)
    await asyncio.to_thread(
        store.record_attempt,
        runtime.engine,
        endpoint_id,
        event_id,
        status_code=status_code,
        error=error,
        duration_ms=took,
        state=outcome.value,
        manual=manual,
    )
    if not taken:
        log.info("webhook %s to endpoint %s: %s", event_id, endpoint_id, error or f"HTTP {status_code}")
    return outcome.value


def body_of(event: Event) -> bytes:
    return json.dumps(event.payload, separators=(",", ":"), sort_keys=True).encode()


async def _post(runtime: Runtime, endpoint: Endpoint, event: Event) -> tuple[int | None, str | None]:
    """POST through the SSRF guard to the address it checked (no redirects followed); (status, problem)."""
    body = body_of(event)
    headers = signed_headers(event.id, int(time.time()), body, endpoint.signing_secrets(utcnow()))
    headers.update({"content-type": "application/json", "user-agent": f"veo31/{__version__} (webhooks)"})
    time_limit = runtime.settings.webhook_timeout_seconds
    try:
        target = checked_url(endpoint.url, field="url")
        address = await checked_address(target, _policy(runtime))
        headers["host"] = target.netloc.decode("ascii")
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        async with httpx.AsyncClient(follow_redirects=False, timeout=time_limit, verify=tls_context()) as client:
            response = await client.post(
                target.copy_with(host=address), content=body, headers=headers, extensions=extensions
            )
    except Veo31Error as error:
        return None, error.message
    except httpx.TimeoutException:
        return None, f"no answer within {time_limit:g} s"
    except httpx.HTTPError as error:
        return None, f"could not connect ({type(error).__name__})"
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}: {response.text[:MAX_RESPONSE_NOTE]}"


def envelope(event_type: EventType, data: dict[str, Any]) -> dict[str, Any]:
    """The body, in the Standard Webhooks shape: type, timestamp, data."""
    return {"type": event_type.value, "timestamp": utcnow().isoformat().replace("+00:00", "Z"), "data": data}


class Webhooks:
    """The endpoints as the API, the page and the CLI manage them."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def register(self, url: str, events: list[str]) -> tuple[Endpoint, str]:
        return await register(self.runtime, url, events)

    async def list(self) -> list[Endpoint]:
        return await asyncio.to_thread(store.endpoints, self.runtime.engine)

    async def get(self, endpoint_id: str) -> Endpoint:
        return await asyncio.to_thread(store.get_endpoint, self.runtime.engine, endpoint_id)

    async def delete(self, endpoint_id: str) -> None:
        await asyncio.to_thread(store.delete_endpoint, self.runtime.engine, endpoint_id)

    async def rotate(self, endpoint_id: str) -> tuple[str, str]:
        return await rotate(self.runtime, endpoint_id)

    async def deliveries(self, endpoint_id: str, limit: int = 100) -> list[store.Delivery]:
        await self.get(endpoint_id)
        return await asyncio.to_thread(store.deliveries, self.runtime.engine, endpoint_id, limit)

    async def redeliver(self, endpoint_id: str, event_id: str) -> None:
        await redeliver(self.runtime, endpoint_id, event_id)
