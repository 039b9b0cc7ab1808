"""A Kie.ai Veo 3.1 emulator: a real HTTP server that answers as ../shared/specs/kie-veo31-api.md says.

Start it with `veo31 emulate kie --port 8100`, point `KIE_BASE_URL` and `KIE_UPLOAD_BASE_URL` at it, and any
`KIE_API_KEY` works (unless `api_keys` is set). One server plays both Kie hosts (the API and the upload host)
and the result-file hosts, and offers a control surface under `/_emulator/` for tests and for developers:

    GET    /_emulator/state        settings, credits, call counts per endpoint, every task and its callbacks
    POST   /_emulator/config       change settings for the rest of the run (partial JSON of KieEmulatorConfig)
    POST   /_emulator/faults       add a fault (or a list): {"kind": "rate_limit", "endpoint": "generate", "count": 3}
    DELETE /_emulator/faults       clear all faults
    POST   /_emulator/credits      set the credit balance: {"credits": 10}
    POST   /_emulator/reset        forget tasks, files, counts and faults; settings back to the start

It shares no code with `veo31.providers.kie`: a misreading of the spec in one must not hide in the other.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from veo31.emulators.faults import fault_routes
from veo31.emulators.kie_handlers import KieEmulator
from veo31.emulators.kie_world import KieEmulatorConfig


def create_kie_emulator(config: KieEmulatorConfig | None = None, **settings: Any) -> Starlette:
    """The emulator as an ASGI app; `app.state.emulator` is the live `KieEmulator` behind it."""
    emulator = KieEmulator(config or KieEmulatorConfig(**settings))

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await emulator.aclose()

    api = [
        ("/api/v1/veo/generate", "generate", emulator.generate, "POST", False),
        ("/api/v1/veo/record-info", "record-info", emulator.record_info, "GET", False),
        ("/api/v1/veo/get-1080p-video", "get-1080p-video", emulator.get_1080p, "GET", False),
        ("/api/v1/veo/get-4k-video", "get-4k-video", emulator.get_4k, "POST", False),
        ("/api/v1/veo/extend", "extend", emulator.extend, "POST", False),
        ("/api/v1/chat/credit", "credit", emulator.credit, "GET", False),
        ("/api/v1/common/download-url", "download-url", emulator.download_url, "POST", False),
        ("/api/file-stream-upload", "file-stream-upload", emulator.upload_stream, "POST", True),
        ("/api/file-base64-upload", "file-base64-upload", emulator.upload_base64, "POST", True),
        ("/api/file-url-upload", "file-url-upload", emulator.upload_url, "POST", True),
    ]
    routes = [
        Route(path, emulator.endpoint(name, handler, upload=upload), methods=[method])
        for path, name, handler, method, upload in api
    ]
    routes += [
        Route("/_emulator/state", partial(_state, emulator), methods=["GET"]),
        Route("/_emulator/config", partial(_configure, emulator), methods=["POST"]),
        *fault_routes(emulator.world.faults),
        Route("/_emulator/credits", partial(_set_credits, emulator), methods=["POST"]),
        Route("/_emulator/reset", partial(_reset, emulator), methods=["POST"]),
        Route("/{path:path}", emulator.serve_file, methods=["GET", "HEAD"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.emulator = emulator
    return app


async def _state(emulator: KieEmulator, _: Request) -> Response:
    world = emulator.world
    tasks = [
        {
            "taskId": task.task_id,
            "kind": task.kind,
            "model": task.model,
            "successFlag": task.flag,
            "width": task.width,
            "height": task.height,
            "resolution": task.resolution,
            "parentId": task.parent_id,
            "params": task.params,
            "callBackUrl": task.callback_url,
            "callbacks": task.callbacks,
            "createdAt": task.created_at,
            "completedAt": task.completed_at,
            "charged": task.charged,
            "faults": [fault.kind for fault in task.faults],
        }
        for task in world.tasks.values()
    ]
    return JSONResponse(
        {
            "config": emulator.config.model_dump(exclude={"api_keys", "hmac_key"}),
            "credits": world.credits,
            "calls": dict(world.calls),
            "user_agents": dict(world.user_agents),
            "tasks": tasks,
            "faults": world.faults.describe(),
        }
    )


async def _configure(emulator: KieEmulator, request: Request) -> Response:
    try:
        changes = await request.json()
        updated = emulator.config.model_validate({**emulator.config.model_dump(), **changes})
    except (ValueError, TypeError, ValidationError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    emulator.world.config = updated
    return JSONResponse(updated.model_dump(exclude={"api_keys", "hmac_key"}))


async def _set_credits(emulator: KieEmulator, request: Request) -> Response:
    try:
        credits = float((await request.json())["credits"])
    except (ValueError, TypeError, KeyError):
        return JSONResponse({"error": 'send {"credits": <number>}'}, status_code=400)
    emulator.world.credits = credits
    return JSONResponse({"credits": credits})


async def _reset(emulator: KieEmulator, _: Request) -> Response:
    await emulator.world.stop()
    emulator.world.reset()
    return JSONResponse({"reset": True})
