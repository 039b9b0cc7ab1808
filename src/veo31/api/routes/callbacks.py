"""Provider callbacks. The URL carries an unguessable per-generation token; the body is only a hint that wakes
the workflow, which then asks the provider itself. A forged body changes nothing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from veo31.api.deps import ServiceDep
from veo31.domain import InputError

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"])


@router.post("/{provider}/{token}")
async def callback(provider: str, token: str, request: Request, service: ServiceDep) -> dict[str, Any]:
    try:
        payload = await request.json()
    except ValueError:
        raise InputError("a callback body must be JSON") from None
    woke = await service.deliver_callback(provider, token, payload)
    return {"received": True, "woke": woke}
