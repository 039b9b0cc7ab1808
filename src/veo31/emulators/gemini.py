"""A Google Veo 3.1 emulator: both surfaces of ../shared/specs/gemini-veo31-api.md on one real HTTP server.

    Gemini API   POST /v1beta/models/{model}:predictLongRunning     GET /v1beta/models/{model}/operations/{id}
                 GET  /v1beta/files/{id}:download?alt=media         GET /v1beta/models/{model} (and /v1/…)
    Vertex AI    POST /{v1,v1beta1}/[projects/{p}/locations/{l}/]publishers/google/models/{model}:predictLongRunning
                 POST …/publishers/google/models/{model}:fetchPredictOperation  {"operationName": …}
                 GET  …/publishers/google/models/{model}

Start it with `veo31 emulate gemini --port 8200`; point `GEMINI_BASE_URL` (the Gemini API) or
`VEO31_VERTEX_BASE_URL` (the SDK in Vertex express mode) at it. Keys come in `x-goog-api-key` (Vertex also takes
a bearer token); a key in the query string works, as at Google, and is counted (`key_in_query`) so tests can
prove veo31 never puts one there. Results are real MP4s rendered from the request's images; the Gemini API hands
out a file link that expires, Vertex returns the bytes inside the operation. Faults (`POST /_emulator/faults`):
rate_limit (429 per minute), quota (429 per day), server_error, slow, drop, malformed, and per operation rai,
rai_audio (done with filter reasons, no video), op_error (done with an `error`). Retired models answer 404.

It shares no code with `veo31.providers.gemini`: a misreading of the spec in one must not hide in the other.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import re
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from veo31.emulators.clips import render_pattern_clip, render_photo_clip, shift_hue
from veo31.emulators.faults import REQUEST_FAULTS, TASK_FAULTS, Fault, FaultBook, fault_routes, faults_from_header
from veo31.emulators.gemini_world import (
    GeminiEmulatorConfig,
    Refusal,
    VeoOperation,
    error_response,
    failure_reason,
    read_images,
    read_parameters,
)
from veo31.emulators.kie_handlers import DroppedResponse

_VERTEX = re.compile(
    r"^/(?P<version>v1|v1beta1)/(?P<prefix>projects/[^/]+/locations/[^/]+/)?publishers/google/models/"
    r"(?P<model>[^/:]+)(?::(?P<action>predictLongRunning|fetchPredictOperation))?$"
)


_GEMINI_PREDICT = re.compile(r"^/v1beta/models/(?P<model>[^/:]+):predictLongRunning$")


_GEMINI_OPERATION = re.compile(r"^/v1beta/(?P<name>models/[^/]+/operations/[^/:]+)$")


_GEMINI_MODEL = re.compile(r"^/(?:v1|v1beta)/models/(?P<model>[^/:]+)$")


_GEMINI_FILE = re.compile(r"^/v1beta/files/(?P<file>[^/:]+):download$")


class GeminiEmulator:
    def __init__(self, config: GeminiEmulatorConfig) -> None:
        self.initial_config = config.model_copy()
        self.faults = FaultBook()
        self.reset()

    def reset(self) -> None:
        self.config = self.initial_config.model_copy()
        self.faults.clear()
        self.operations: dict[str, VeoOperation] = {}
        self.files: dict[str, tuple[bytes, float]] = {}
        self.calls: Counter[str] = Counter()
        self.background: set[asyncio.Task[None]] = set()

    async def stop(self) -> None:
        for job in list(self.background):
            job.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)

    # -- plumbing -------------------------------------------------------------------------------------------

    async def dispatch(self, request: Request) -> Response:
        path = request.url.path
        if match := _VERTEX.match(path):
            action = match["action"]
            if action is None and request.method == "GET":
                return await self.guarded(request, "model", lambda f: self.model_info(match["model"], "vertex"))
            if action == "predictLongRunning" and request.method == "POST":
                prefix = match["prefix"] or ""
                return await self.guarded(
                    request, "predict", lambda f: self.predict(request, match["model"], f, prefix)
                )
            if action == "fetchPredictOperation" and request.method == "POST":
                return await self.guarded(request, "operation", lambda f: self.fetch_operation(request))
        elif match := _GEMINI_PREDICT.match(path):
            if request.method == "POST":
                return await self.guarded(request, "predict", lambda f: self.predict(request, match["model"], f, None))
        elif match := _GEMINI_OPERATION.match(path):
            return await self.guarded(request, "operation", lambda f: self.operation_answer(match["name"], request))
        elif match := _GEMINI_MODEL.match(path):
            return await self.guarded(request, "model", lambda f: self.model_info(match["model"], "gemini"))
        elif match := _GEMINI_FILE.match(path):
            return await self.guarded(request, "download", lambda f: self.download(match["file"]))
        return error_response(404, "NOT_FOUND", f"The requested URL {path} was not found on this server.")

    async def guarded(self, request: Request, name: str, handler: Any) -> Response:
        """Count the call, check the key, apply faults, run the handler, turn refusals into Google's error body."""
        self.calls[name] += 1
        try:
            header_faults = faults_from_header(request.headers.get("X-Emulator-Fault"))
        except ValueError as exc:
            return error_response(400, "INVALID_ARGUMENT", str(exc))
        request_faults = self.faults.take(name, REQUEST_FAULTS) + [f for f in header_faults if f.kind in REQUEST_FAULTS]
        task_faults = self.faults.take(name, TASK_FAULTS) + [f for f in header_faults if f.kind in TASK_FAULTS]
        refusal = self.check_key(request) or self.early_fault(request_faults)
        if refusal is not None:
            return refusal
        try:
            response = await handler(task_faults)
        except Refusal as exc:
            response = error_response(exc.status, exc.code, exc.message, exc.details)
        for fault in request_faults:
            if fault.kind == "slow":
                await asyncio.sleep(fault.seconds)
        for fault in request_faults:
            if fault.kind == "drop":
                return DroppedResponse()
            if fault.kind == "malformed":
                return Response(b'{"name": "models/', media_type="application/json")
        return response

    def check_key(self, request: Request) -> Response | None:
        key = request.headers.get("x-goog-api-key", "").strip()
        if not key and request.query_params.get("key"):
            self.calls["key_in_query"] += 1
            key = request.query_params["key"]
        bearer = request.headers.get("Authorization", "")
        if not key and bearer.startswith("Bearer ") and bearer[7:].strip():
            return None  # Vertex with OAuth credentials: any token stands for a service account here
        if not key:
            return error_response(
                403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers. Please use an API key."
            )
        allowed = self.config.api_keys
        if allowed is not None and not any(hmac.compare_digest(key, good) for good in allowed):
            return error_response(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
        return None

    def early_fault(self, faults: list[Fault]) -> Response | None:
        for fault in faults:
            if fault.kind == "rate_limit":
                delay = f"{self.config.retry_delay_seconds:g}s"
                return error_response(
                    429,
                    "RESOURCE_EXHAUSTED",
                    "You exceeded your current quota for requests per minute; please retry in a moment.",
                    [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}],
                )
            if fault.kind == "quota":
                return error_response(
                    429,
                    "RESOURCE_EXHAUSTED",
                    "You exceeded your current quota: requests per day for this model. Please check your plan and "
                    "billing details.",
                )
            if fault.kind == "server_error":
                status = fault.code if fault.code in (500, 503, 504) else 500
                code = {500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}[status]
                return error_response(status, code, fault.msg or "An internal error has occurred.")
            if fault.kind == "error":
                return error_response(fault.code, "FAILED_PRECONDITION", fault.msg or "error")
        return None

    def spawn(self, coroutine: Any) -> None:
        job = asyncio.get_running_loop().create_task(coroutine)
        self.background.add(job)
        job.add_done_callback(self.background.discard)

    def require_model(self, model: str, version: str) -> None:
        if model in self.config.retired_models:
            raise Refusal(
                404,
                "NOT_FOUND",
                f"models/{model} is no longer available to new users. Please use a newer model.",
            )
        if model not in self.config.models:
            raise Refusal(
                404,
                "NOT_FOUND",
                f"models/{model} is not found for API version {version}, or is not supported for predictLongRunning.",
            )

    # -- models ---------------------------------------------------------------------------------------------

    async def model_info(self, model: str, surface: str) -> Response:
        self.require_model(model, "v1beta")
        if surface == "vertex":
            return JSONResponse({"name": f"publishers/google/models/{model}", "versionId": "001"})
        return JSONResponse(
            {
                "name": f"models/{model}",
                "displayName": model,
                "supportedGenerationMethods": ["predictLongRunning"],
            }
        )

    # -- generation -----------------------------------------------------------------------------------------

    async def predict(self, request: Request, model: str, faults: list[Fault], vertex_prefix: str | None) -> Response:
        surface = "gemini" if vertex_prefix is None else "vertex"
        self.calls[f"{surface}:predictLongRunning"] += 1
        self.require_model(model, "v1beta")
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            raise Refusal(400, "INVALID_ARGUMENT", "Invalid JSON payload received.") from None
        instances = body.get("instances") if isinstance(body, dict) else None
        if not isinstance(instances, list) or len(instances) != 1 or not isinstance(instances[0], dict):
            raise Refusal(400, "INVALID_ARGUMENT", "instances must hold exactly one instance")
        instance = instances[0]
        parameters = body.get("parameters") or {}
        if not isinstance(parameters, dict):
            raise Refusal(400, "INVALID_ARGUMENT", "parameters must be an object")
        photos, mode = read_images(instance)
        prompt = instance.get("prompt")
        if mode in ("text", "reference") and (not isinstance(prompt, str) or not prompt.strip()):
            raise Refusal(400, "INVALID_ARGUMENT", "A prompt is required for this request.")
        width, height, seconds = read_parameters(parameters, mode, model)
        op_id = secrets.token_hex(8)
        if surface == "gemini":
            name = f"models/{model}/operations/{op_id}"
        else:
            name = f"{vertex_prefix}publishers/google/models/{model}/operations/{op_id}"
        scale = self.config.render_scale
        operation = VeoOperation(
            name=name,
            surface=surface,
            model=model,
            body={"instance_keys": sorted(instance), "parameters": parameters, "prompt": prompt},
            width=max(16, int(width * scale) // 2 * 2),
            height=max(16, int(height * scale) // 2 * 2),
            seconds=self.config.clip_seconds or seconds,
            photos=photos,
            faults=faults,
        )
        operation.ready_at = operation.created_at + self.config.generation_seconds
        self.operations[name] = operation
        self.spawn(self.render(operation))
        return JSONResponse({"name": name})

    async def render(self, operation: VeoOperation) -> None:
        if operation.has_fault("rai") or operation.has_fault("rai_audio") or operation.has_fault("op_error"):
            return
        if operation.photos:
            photos = operation.photos
            if operation.has_fault("hue_shift"):  # a result that shows the product in another colour
                photos = [await asyncio.to_thread(shift_hue, photo) for photo in photos]
            clip = await asyncio.to_thread(
                render_photo_clip,
                photos,
                operation.width,
                operation.height,
                operation.seconds,
                self.config.fps,
            )
        else:
            clip = await asyncio.to_thread(
                render_pattern_clip, operation.width, operation.height, operation.seconds, self.config.fps
            )
        operation.result = clip
        if operation.surface == "gemini":
            operation.file_id = secrets.token_hex(10)
            self.files[operation.file_id] = (clip, time.time() + self.config.file_ttl_seconds)

    async def fetch_operation(self, request: Request) -> Response:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            raise Refusal(400, "INVALID_ARGUMENT", "Invalid JSON payload received.") from None
        name = body.get("operationName") if isinstance(body, dict) else None
        if not isinstance(name, str):
            raise Refusal(400, "INVALID_ARGUMENT", "operationName is required.")
        return await self.operation_answer(name, request)

    async def operation_answer(self, name: str, request: Request) -> Response:
        operation = self.operations.get(name)
        if operation is None:
            raise Refusal(404, "NOT_FOUND", f"Operation {name} not found.")
        return JSONResponse(self.describe(operation, str(request.base_url).rstrip("/")))

    def describe(self, operation: VeoOperation, base_url: str) -> dict[str, Any]:
        answer: dict[str, Any] = {"name": operation.name}
        failure = operation.has_fault("op_error")
        rejected = operation.has_fault("rai") or operation.has_fault("rai_audio")
        finished = time.time() >= operation.ready_at and (failure or rejected or operation.result is not None)
        if not finished:
            return answer
        answer["done"] = True
        if failure:
            code = failure.code if failure.code < 100 else 13
            answer["error"] = {
                "code": code,
                "message": failure.msg or "Video generation failed due to an internal error.",
            }
            return answer
        if rejected:
            reason = failure_reason(operation)
            result: dict[str, Any] = {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": [reason]}
        elif operation.surface == "gemini":
            uri = f"{base_url}/v1beta/files/{operation.file_id}:download?alt=media"
            result = {"generatedSamples": [{"video": {"uri": uri}}]}
        else:
            encoded = base64.b64encode(operation.result or b"").decode("ascii")
            result = {"videos": [{"bytesBase64Encoded": encoded, "mimeType": "video/mp4"}], "raiMediaFilteredCount": 0}
        if operation.surface == "gemini":
            answer["response"] = {
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
                "generateVideoResponse": result,
            }
        else:
            answer["response"] = {
                "@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
                **result,
            }
        return answer

    async def download(self, file_id: str) -> Response:
        stored = self.files.get(file_id)
        if stored is None or time.time() >= stored[1]:
            raise Refusal(404, "NOT_FOUND", "File not found or has expired.")
        return Response(stored[0], media_type="video/mp4")

    def state(self) -> dict[str, Any]:
        return {
            "config": self.config.model_dump(exclude={"api_keys"}),
            "calls": dict(self.calls),
            "operations": [
                {
                    "name": op.name,
                    "surface": op.surface,
                    "model": op.model,
                    "width": op.width,
                    "height": op.height,
                    "seconds": op.seconds,
                    "images": len(op.photos),
                    "request": op.body,
                    "faults": [fault.kind for fault in op.faults],
                    "done": time.time() >= op.ready_at,
                }
                for op in self.operations.values()
            ],
            "faults": self.faults.describe(),
        }


def create_gemini_emulator(config: GeminiEmulatorConfig | None = None, **settings: Any) -> Starlette:
    """The emulator as an ASGI app; `app.state.emulator` is the live `GeminiEmulator` behind it."""
    emulator = GeminiEmulator(config or GeminiEmulatorConfig(**settings))

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await emulator.stop()

    async def state(_: Request) -> Response:
        return JSONResponse(emulator.state())

    async def configure(request: Request) -> Response:
        try:
            changes = await request.json()
            updated = emulator.config.model_validate({**emulator.config.model_dump(), **changes})
        except (ValueError, TypeError, ValidationError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        emulator.config = updated
        return JSONResponse(updated.model_dump(exclude={"api_keys"}))

    async def reset(_: Request) -> Response:
        await emulator.stop()
        emulator.reset()
        return JSONResponse({"reset": True})

    routes = [
        Route("/_emulator/state", state, methods=["GET"]),
        Route("/_emulator/config", configure, methods=["POST"]),
        *fault_routes(emulator.faults),
        Route("/_emulator/reset", reset, methods=["POST"]),
        Route("/{path:path}", emulator.dispatch, methods=["GET", "POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.emulator = emulator
    return app
