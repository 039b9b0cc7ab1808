"""Health (the process answers), readiness (database and providers), and Prometheus metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from veo31.api.deps import ServiceDep, SettingsDep, has_valid_token, require_token

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/v1/session")
async def session(request: Request, settings: SettingsDep) -> dict[str, bool]:
    """Whether this server needs a token, and whether the one sent (if any) is good — always 200, so a page can
    ask before it calls anything that would answer 401."""
    return {"token_required": bool(settings.api_tokens), "token_valid": has_valid_token(request, settings)}


@router.get("/readyz")
async def readyz(service: ServiceDep) -> JSONResponse:
    report = await service.readiness()
    ready = report.pop("ready")
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": report}, status_code=200 if ready else 503
    )


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(request: Request, settings: SettingsDep) -> Response:
    """Prometheus metrics. With VEO31_API_TOKENS set it needs a token too (Prometheus sends one with
    `authorization: {credentials: …}`), unless VEO31_METRICS_PUBLIC=true."""
    if not settings.metrics_public:
        await require_token(request, settings)
    registry = request.app.state.metrics
    return Response(await asyncio.to_thread(generate_latest, registry), media_type=CONTENT_TYPE_LATEST)
