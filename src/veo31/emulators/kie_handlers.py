"""The Kie.ai emulator's answers, endpoint by endpoint, as ../shared/specs/kie-veo31-api.md describes them.

Each handler reads and changes the `KieWorld`; `endpoint()` wraps it with what every Kie endpoint shares:
the call count, the key check, fault injection, and envelopes for refusals.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from PIL import Image, UnidentifiedImageError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from veo31.emulators.faults import REQUEST_FAULTS, TASK_FAULTS, Fault, faults_from_header
from veo31.emulators.kie_answers import (
    Refusal,
    callback_url_of,
    json_body,
    seconds,
)
from veo31.emulators.kie_callbacks import Callbacks
from veo31.emulators.kie_files import AccountAndFiles
from veo31.emulators.kie_upgrades import UpgradesAndExtension
from veo31.emulators.kie_world import (
    MODEL_CREDITS,
    UPGRADE_CREDITS,
    KieEmulatorConfig,
    KieWorld,
    Task,
    frame_size,
    kie_time,
)

MODELS = ("veo3", "veo3_fast", "veo3_lite")
GENERATION_TYPES = {"TEXT_2_VIDEO": (0, 0), "FIRST_AND_LAST_FRAMES_2_VIDEO": (1, 2), "REFERENCE_2_VIDEO": (1, 3)}
ASPECT_RATIOS = ("16:9", "9:16", "Auto")
RESOLUTIONS = ("720p", "1080p", "4k")
FETCH_FAILED = "Failed to fetch the image. Kindly verify any access limits set by you or your service provider."
Handler = Callable[[Request, list[Fault]], Awaitable[Response]]

_RNG = random.Random()  # our own, so jitter never touches the global generator others rely on


class DroppedResponse(Response):
    """Promise a body, send part of it, and hang up: what a connection cut mid-answer looks like."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"512")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"code": 200, "ms', "more_body": True})


class KieEmulator(Callbacks, UpgradesAndExtension, AccountAndFiles):
    def __init__(self, config: KieEmulatorConfig) -> None:
        self.world = KieWorld(config)
        self._http: httpx.AsyncClient | None = None

    @property
    def config(self) -> KieEmulatorConfig:
        return self.world.config

    async def aclose(self) -> None:
        """Stop background work (generations in flight, callbacks) and close the outgoing connection pool."""
        await self.world.stop()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            # Idle connections are dropped after 2 s, before a uvicorn server's 5 s keep-alive closes its end: a
            # connection reused just as the server closes it fails the request (a reference image "unreachable",
            # a callback lost), which no real Kie would do to its users.
            self._http = httpx.AsyncClient(
                follow_redirects=True,
                headers={"User-Agent": "kie-emulator"},
                limits=httpx.Limits(keepalive_expiry=2.0),
            )
        return self._http

    # -- plumbing ---------------------------------------------------------------------------------------------

    def answer(
        self,
        code: int,
        msg: str,
        data: Any = None,
        *,
        style: str | None = None,
        upload: bool = False,
        headers: dict[str, str] | None = None,
    ) -> JSONResponse:
        body: dict[str, Any] = {"code": code, "msg": msg, "data": data}
        if upload:
            body = {"success": code == 200, **body}
        http_status = 200 if code == 200 or (style or self.config.error_style) == "envelope" else code
        return JSONResponse(body, status_code=http_status, headers=headers)

    def endpoint(
        self, name: str, handler: Handler, *, upload: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        """Count the call, apply faults, check the key, run the handler, turn refusals into envelopes."""

        async def route(request: Request) -> Response:
            try:
                await request.body()  # like any HTTP server, act only on a request that arrived whole
            except ClientDisconnect:
                self.world.calls[f"{name}:cut_off"] += 1
                return Response(status_code=400)
            self.world.calls[name] += 1
            agent = request.headers.get("User-Agent", "").strip()
            self.world.user_agents[agent] += 1
            if not agent:
                # Cloudflare in front of both Kie hosts turns away requests without a User-Agent (spec §10).
                return Response(b"error code: 1010", status_code=403, media_type="text/plain")
            try:
                header_faults = faults_from_header(request.headers.get("X-Emulator-Fault"))
            except ValueError as exc:
                return self.answer(400, str(exc), upload=upload)
            request_faults = self.world.faults.take(name, REQUEST_FAULTS)
            request_faults += [fault for fault in header_faults if fault.kind in REQUEST_FAULTS]
            task_faults = self.world.faults.take(name, TASK_FAULTS)
            task_faults += [fault for fault in header_faults if fault.kind in TASK_FAULTS]
            refusal = self.check_key(request, upload=upload) or self.early_fault(request_faults, upload)
            if refusal is not None:
                return refusal
            try:
                response = await handler(request, task_faults)
            except Refusal as exc:
                response = self.answer(exc.code, exc.msg, exc.data, upload=upload)
            return await self.late_fault(request_faults, response)

        return route

    def check_key(self, request: Request, *, upload: bool) -> Response | None:
        header = request.headers.get("Authorization", "")
        key = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        if not key:
            return self.answer(401, "You do not have access permissions", upload=upload)
        allowed = self.config.api_keys
        if allowed is not None and not any(hmac.compare_digest(key, good) for good in allowed):
            message = "Authentication failed: Invalid API Key" if upload else "Unauthorized: the API key is invalid"
            return self.answer(401, message, upload=upload)
        return None

    def early_fault(self, faults: list[Fault], upload: bool) -> Response | None:
        for fault in faults:
            if fault.kind == "rate_limit":
                return self.answer(
                    429,
                    "Your call frequency is too high. Please try again later.",
                    style=fault.style,
                    upload=upload,
                    headers={"Retry-After": seconds(fault.retry_after)},
                )
            if fault.kind == "server_error":
                return self.answer(
                    500, fault.msg or "Internal Error, Please try again later.", style=fault.style, upload=upload
                )
            if fault.kind == "maintenance":
                return self.answer(
                    455,
                    fault.msg or "Service unavailable: the system is under maintenance.",
                    style=fault.style,
                    upload=upload,
                )
            if fault.kind == "error":
                return self.answer(fault.code, fault.msg or "error", style=fault.style, upload=upload)
        return None

    async def late_fault(self, faults: list[Fault], response: Response) -> Response:
        for fault in faults:
            if fault.kind == "slow":
                await asyncio.sleep(fault.seconds)
        for fault in faults:
            if fault.kind == "drop":
                return DroppedResponse()
            if fault.kind == "malformed":
                return Response(b'{"code": 200, "msg": "success", "data": {"taskId": ', media_type="application/json")
        return response

    def base_url(self, request: Request) -> str:
        return (self.config.public_url or str(request.base_url)).rstrip("/")

    def url(self, task: Task, path: str) -> str:
        return f"{task.base_url}/{path}"

    # -- generation -------------------------------------------------------------------------------------------

    async def generate(self, request: Request, faults: list[Fault]) -> Response:
        body = await json_body(request)
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise Refusal(422, "prompt is required and cannot be empty")
        model = body.get("model", "veo3_fast")
        if model not in MODELS:
            raise Refusal(404, f"The model {str(model)[:40]} is not supported; use veo3, veo3_fast or veo3_lite")
        aspect = body.get("aspect_ratio", body.get("aspectRatio", "16:9"))
        if aspect not in ASPECT_RATIOS:
            raise Refusal(422, "aspect_ratio must be one of 16:9, 9:16, Auto")
        images = body.get("imageUrls") or []
        if not isinstance(images, list) or not all(isinstance(url, str) for url in images):
            raise Refusal(422, "imageUrls must be a list of URLs")
        mode = body.get("generationType") or ("FIRST_AND_LAST_FRAMES_2_VIDEO" if images else "TEXT_2_VIDEO")
        if mode not in GENERATION_TYPES:
            raise Refusal(422, f"generationType must be one of {', '.join(GENERATION_TYPES)}")
        low, high = GENERATION_TYPES[mode]
        if not low <= len(images) <= high:
            raise Refusal(422, f"{mode} requires {low} to {high} images, got {len(images)}")
        if mode == "REFERENCE_2_VIDEO" and model == "veo3":
            raise Refusal(422, "REFERENCE_2_VIDEO only supports the veo3_fast and veo3_lite models")
        resolution = body.get("resolution", "720p")
        if resolution not in RESOLUTIONS:
            raise Refusal(422, "resolution must be one of 720p, 1080p, 4k")
        seeds = body.get("seeds")
        if seeds is not None and (not isinstance(seeds, int) or isinstance(seeds, bool) or not 10000 <= seeds <= 99999):
            raise Refusal(422, "seeds must be an integer between 10000 and 99999")
        callback = callback_url_of(body)
        wait = self.world.rate_limited_for(time.time())
        if wait is not None:
            # Kie documents no Retry-After for this limit, so none is sent; the fault `rate_limit` sends one.
            raise Refusal(
                429,
                f"Too many requests: at most {self.config.rate_limit} new generations per "
                f"{self.config.rate_window_seconds:g} seconds; retry in {wait:.1f} s",
            )
        cost = MODEL_CREDITS[model] + UPGRADE_CREDITS.get(resolution, 0.0)
        if self.world.credits < cost:
            raise Refusal(402, "The current credits are insufficient. Please top up.")
        sizes = await self.fetch_images(images)
        if aspect == "Auto":
            aspect = "9:16" if sizes and sizes[0][1] > sizes[0][0] else "16:9"
        width, height = frame_size(resolution, aspect)
        task = self.new_task(
            "generate",
            body,
            request,
            model=model,
            width=width,
            height=height,
            seconds=self.config.clip_seconds,
            resolution=resolution,
            callback=callback,
            faults=faults,
            cost=cost,
        )
        jitter = _RNG.uniform(0, self.config.generation_jitter_seconds)
        self.world.spawn(self.run(task, self.config.generation_seconds + jitter))
        return self.answer(200, "success", {"taskId": task.task_id})

    async def fetch_images(self, urls: list[str]) -> list[tuple[int, int]]:
        """Fetch every reference image as Kie does; any failure refuses the request (code 451)."""
        sizes = []
        for url in urls:
            try:
                response = await self.http.get(url, timeout=self.config.fetch_timeout_seconds)
                response.raise_for_status()
                with Image.open(io.BytesIO(response.content)) as image:
                    sizes.append(image.size)
            except (httpx.HTTPError, UnidentifiedImageError, OSError):
                raise Refusal(451, FETCH_FAILED) from None
        return sizes

    def new_task(
        self,
        kind: Any,
        body: dict[str, Any],
        request: Request,
        *,
        model: str,
        width: int,
        height: int,
        seconds: float,
        resolution: str,
        callback: str | None,
        faults: list[Fault],
        cost: float,
        parent: Task | None = None,
    ) -> Task:
        self.world.charge(cost)
        params = {key: value for key, value in body.items() if key != "callBackUrl"}
        task = Task(
            task_id=secrets.token_hex(16),
            kind=kind,
            params=params,
            base_url=self.base_url(request),
            model=model,
            width=width,
            height=height,
            seconds=seconds,
            resolution=resolution,
            callback_url=callback,
            faults=faults,
            charged=cost,
            parent_id=parent.task_id if parent else None,
        )
        self.world.tasks[task.task_id] = task
        return task

    async def run(self, task: Task, after: float) -> None:
        """The life of a task: wait, finish (or fail), then call back."""
        await asyncio.sleep(after)
        failure = task.has_fault("fail")
        if failure:
            task.flag, task.error_code = failure.flag, failure.error_code
            task.error_message = failure.msg or "Video generation failed, please try again."
            self.world.credits += task.charged
            task.charged = 0.0
        else:
            await self.finish(task)
        task.completed_at = time.time()
        await self.call_back(task)

    async def finish(self, task: Task) -> None:
        keep = 0.0 if task.has_fault("gone") else self.config.retention_seconds
        ttl = 0.0 if task.has_fault("expired_link") else self.config.link_ttl_seconds
        prefix = {"generate": "v", "extend": "v", "4k": "k"}[task.kind]
        key = f"results/{task.task_id}.mp4"
        self.world.store(
            key, await self.world.render_task(task, task.width, task.height, task.seconds), "video/mp4", keep_for=keep
        )
        task.result_paths = [self.world.mint_link(key, prefix, ttl=ttl)]
        if task.kind == "extend":
            full_key = f"results/{task.task_id}-full.mp4"
            content = await self.world.render_task(task, task.width, task.height, task.seconds * 2)
            self.world.store(full_key, content, "video/mp4", keep_for=keep)
            task.full_result_paths = [self.world.mint_link(full_key, prefix, ttl=ttl)]
        if task.kind == "4k":
            image_key = f"results/{task.task_id}.jpg"
            self.world.store(
                image_key, await self.world.thumbnail(task.width, task.height), "image/jpeg", keep_for=keep
            )
            task.image_paths = [self.world.mint_link(image_key, "t", ttl=ttl, suffix=".jpg")]
        task.flag = 1

    # -- reading tasks ----------------------------------------------------------------------------------------

    def urls(self, task: Task, paths: list[str]) -> Any:
        urls = [self.url(task, path) for path in paths]
        return json.dumps(urls) if task.has_fault("string_urls") else urls

    def find(self, task_id: Any) -> Task:
        if not isinstance(task_id, str) or not task_id:
            raise Refusal(422, "taskId is required")
        task = self.world.tasks.get(task_id)
        if task is None:
            raise Refusal(422, "record is null")
        if time.time() - task.created_at > self.config.retention_seconds:
            raise Refusal(422, "Temporarily supports records within 14 days")
        return task

    def find_finished(self, task_id: Any) -> Task:
        task = self.find(task_id)
        if task.flag != 1:
            raise Refusal(422, "record status is not success")
        return task

    async def record_info(self, request: Request, _: list[Fault]) -> Response:
        task = self.find(request.query_params.get("taskId"))
        data: dict[str, Any] = {
            "taskId": task.task_id,
            "paramJson": json.dumps(task.params),
            "successFlag": task.flag,
            "response": None,
            "errorCode": task.error_code,
            "errorMessage": task.error_message,
            "createTime": kie_time(task.created_at),
            "completeTime": kie_time(task.completed_at),
        }
        if task.kind != "4k":
            data["fallbackFlag"] = False
        if task.flag == 1:
            response: dict[str, Any] = {
                "taskId": task.task_id,
                "resultUrls": self.urls(task, task.result_paths),
                "originUrls": None,
                "resolution": task.resolution,
            }
            if task.aspect_ratio != "16:9":
                response["originUrls"] = self.urls(task, task.result_paths)
            if task.full_result_paths:
                response["fullResultUrls"] = self.urls(task, task.full_result_paths)
            if task.kind == "4k":
                response["mediaIds"] = [hashlib.sha1(task.task_id.encode()).hexdigest()]
            data.update(response=response, errorMessage="")
        return self.answer(200, "success", data)
