"""Provider callbacks. The URL carries an unguessable per-generation token, looked up before a byte of the body
is read (bodies are capped at 64 KB by the request guard); the body is only a hint that wakes the workflow,
which then asks the provider itself. A forged body changes nothing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from veo31.api.deps import ServiceDep, read_json

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"])


@router.post("/{provider}/{token}")
async def callback(provider: str, token: str, request: Request, service: ServiceDep) -> dict[str, Any]:
    target = await service.callback_target(provider, token)
    payload = await read_json(request, what="a callback body")
    woke = await service.deliver_callback(target, payload)
    return {"received": True, "woke": woke}
