"""The FastAPI application: `create_app(settings)` wires the routes to a running pipeline.

Every error leaves as JSON `{"error", "detail"}` with a 4xx a person can act on; provider trouble on a
synchronous path is a 502 naming the provider; nothing we raise on purpose becomes a 500.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Histogram
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from veo31 import __version__
from veo31.api.deps import load_link_key
from veo31.api.guard import RequestGuard
from veo31.api.metrics import GenerationsCollector
from veo31.api.routes import (
    analyses,
    batches,
    brand_kits,
    callbacks,
    checks,
    compat,
    compat_status,
    deliverables,
    events,
    generations,
    health,
    media,
    page,
    providers,
    review,
    webhooks,
)
from veo31.config import Settings
from veo31.errors import RateLimitedError, Veo31Error
from veo31.pipeline import lifecycle as pipeline
from veo31.pipeline.service import GenerationService

log = logging.getLogger("veo31.api")


def create_app(settings: Settings, *, worker: bool = True) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        running = await pipeline.start(settings, worker=worker)
        app.state.service = GenerationService(running)
        app.state.link_key = load_link_key(settings.data_dir)
        app.state.metrics.register(GenerationsCollector(app.state.service.counts))
        # What start-up made (modules, DBOS's registry, the clients) lives as long as the process. Every full
        # garbage collection walked it all while no answer moved (docs/performance.md); frozen, it is skipped.
        gc.freeze()
        try:
            yield
        finally:
            await pipeline.stop()

    app = FastAPI(
        title="veo31",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # served by the page router from packaged assets (FastAPI's own loads Swagger UI from a CDN)
        redoc_url=None,
        description="Product videos with Veo 3.1, tracked durably from request to a verified MP4.",
    )
    app.state.settings = settings
    app.state.metrics = CollectorRegistry()
    app.state.task_misses = compat_status.RecentMisses()
    install_request_metrics(app)
    # Added last, so it runs first: refusals cost nothing, and CORS answers cover them and preflights alike.
    app.add_middleware(RequestGuard, settings=settings)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["Location", "Retry-After", "Content-Disposition", "Content-Range", "Accept-Ranges"],
        )
    install_error_handlers(app)
    routers = (
        analyses.router,
        generations.router,
        review.router,
        deliverables.router,
        brand_kits.router,
        batches.router,
        webhooks.router,
        providers.router,
        checks.router,
        events.router,
        media.router,
        callbacks.router,
        compat.router,
        compat_status.router,
        health.router,
        page.router,
    )
    for router in routers:
        app.include_router(router)
    app.mount("/static", page.static_files(), name="static")
    app.mount("/docs-assets", page.docs_assets(), name="docs-assets")
    return app


def install_request_metrics(app: FastAPI) -> None:
    latency = Histogram(
        "veo31_http_request_seconds", "HTTP answer time", ["method", "route", "status"], registry=app.state.metrics
    )

    app.add_middleware(RequestMetrics, latency=latency)


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetrics:
    """Answer times by method, route and status, taken when the answer starts. A plain ASGI middleware: Starlette's
    `BaseHTTPMiddleware` would run every request through an extra task and a pair of memory streams.

    Every label takes a bounded set of values (a made-up method is "other", a path no route matches is
    "unmatched"): a label fed from the request would let anyone grow the metrics without end."""

    def __init__(self, app: ASGIApp, latency: Histogram) -> None:
        self.app = app
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = getattr(scope.get("route"), "path", "unmatched")  # the router has matched by now
                seconds = time.perf_counter() - started
                method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"
                self.latency.labels(method, route, str(message["status"])).observe(seconds)
            await send(message)

        await self.app(scope, receive, timed)


def problem(status: int, error: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"error": error, "detail": detail, **{key: value for key, value in extra.items() if value is not None}}
    return JSONResponse(body, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Veo31Error)
    async def veo31_error(_: Request, exc: Veo31Error) -> JSONResponse:
        kind = exc.kind
        headers = {}
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            headers["Retry-After"] = str(int(exc.retry_after + 0.999))
        response = problem(
            exc.answer_status,
            kind or "error",
            exc.message,
            field=getattr(exc, "field", None),
            allowed=getattr(exc, "allowed", None) or None,
        )
        response.headers.update(headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "request"
            parts.append(f"{where}: {str(error.get('msg', 'invalid')).removeprefix('Value error, ')}")
        return problem(422, "invalid_request", "; ".join(parts))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = problem(exc.status_code, f"http_{exc.status_code}", str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(ClientDisconnect)
    async def client_gone(request: Request, _: ClientDisconnect) -> JSONResponse:
        log.warning("client left before sending the whole body: %s %s", request.method, request.url.path)
        return problem(400, "client_disconnected", "the request body was cut off before its end")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(500, "internal", "an unexpected error happened; it was logged — please report it")
