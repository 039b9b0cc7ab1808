"""The Kie.ai emulator's answers, endpoint by endpoint, as ../shared/specs/kie-veo31-api.md describes them.

Each handler reads and changes the `KieWorld`; `endpoint()` wraps it with what every Kie endpoint shares:
the call count, the key check, fault injection, and envelopes for refusals.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
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
from veo31.emulators.kie_world import (
    EXTEND_MODELS,
    MODEL_CREDITS,
    UPGRADE_CREDITS,
    KieEmulatorConfig,
    KieWorld,
    Link,
    Task,
    frame_size,
    kie_time,
)

MODELS = ("veo3", "veo3_fast", "veo3_lite")
GENERATION_TYPES = {"TEXT_2_VIDEO": (0, 0), "FIRST_AND_LAST_FRAMES_2_VIDEO": (1, 2), "REFERENCE_2_VIDEO": (1, 3)}
ASPECT_RATIOS = ("16:9", "9:16", "Auto")
RESOLUTIONS = ("720p", "1080p", "4k")
FETCH_FAILED = "Failed to fetch the image. Kindly verify any access limits set by you or your service provider."
PROCESSING_1080P = "1080P is processing. It should be ready in 1-2 minutes. Please check back shortly."
PROCESSING_4K = "4k is processing. It should be ready in 5-10 minutes. Please check back shortly."
Handler = Callable[[Request, list[Fault]], Awaitable[Response]]

_RNG = random.Random()  # our own, so jitter never touches the global generator others rely on


class Refusal(Exception):
    """An answer with a non-200 code, raised from deep in a handler."""

    def __init__(self, code: int, msg: str, data: Any = None) -> None:
        super().__init__(msg)
        self.code, self.msg, self.data = code, msg, data


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


class KieEmulator:
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
                    headers={"Retry-After": _seconds(fault.retry_after)},
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
        body = await _json_body(request)
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
        callback = _callback_url(body)
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

    # -- callbacks --------------------------------------------------------------------------------------------

    async def call_back(self, task: Task) -> None:
        if not task.callback_url:
            return
        if task.has_fault("callback_lost"):
            task.callbacks.append({"lost": True})
            return
        late = task.has_fault("callback_late")
        await asyncio.sleep(self.config.callback_delay_seconds + (late.seconds if late else 0.0))
        payload = self.callback_payload(task)
        for _ in range(2 if task.has_fault("callback_duplicate") else 1):
            await self.deliver(task, payload)

    def callback_payload(self, task: Task) -> dict[str, Any]:
        if task.flag != 1:
            return {
                "code": task.error_code or 501,
                "msg": task.error_message,
                "data": {"taskId": task.task_id, "fallbackFlag": False},
            }
        urls = self.urls(task, task.result_paths)
        if task.kind == "4k":
            info = {"resultUrls": urls, "imageUrls": [self.url(task, path) for path in task.image_paths]}
            return {
                "code": 200,
                "msg": "4K Video generated successfully.",
                "data": {"taskId": task.task_id, "info": info},
            }
        info = {
            "resultUrls": urls,
            "originUrls": urls if task.aspect_ratio != "16:9" else None,
            "resolution": task.resolution,
        }
        if task.full_result_paths:
            info["fullResultUrls"] = self.urls(task, task.full_result_paths)
        message = (
            "Veo3.1 video extension successful." if task.kind == "extend" else "Veo3.1 video generated successfully."
        )
        prompt_json = json.dumps(
            {"aspectRatio": task.aspect_ratio, "model": task.model, "prompt": task.params.get("prompt")}
        )
        return {
            "code": 200,
            "msg": message,
            "data": {"taskId": task.task_id, "info": info, "promptJson": prompt_json, "fallbackFlag": False},
        }

    async def deliver(self, task: Task, payload: dict[str, Any]) -> None:
        """POST the callback, trying again a few times if the receiver fails (Kie's habit, spec §6)."""
        assert task.callback_url
        for attempt in range(1, self.config.callback_attempts + 1):
            headers = self.signature_headers(task.task_id)
            record: dict[str, Any] = {"attempt": attempt, "at": time.time()}
            self.world.calls["callback"] += 1
            try:
                response = await self.http.post(task.callback_url, json=payload, headers=headers, timeout=15.0)
                record["status"] = response.status_code
            except httpx.HTTPError as exc:
                record["error"] = type(exc).__name__
            task.callbacks.append(record)
            if 200 <= record.get("status", 0) < 300:
                return
            await asyncio.sleep(min(2.0**attempt, 10.0))

    def signature_headers(self, task_id: str) -> dict[str, str]:
        if not self.config.hmac_key:
            return {}
        timestamp = str(int(time.time()))
        digest = hmac.new(self.config.hmac_key.encode(), f"{task_id}.{timestamp}".encode(), hashlib.sha256).digest()
        return {"X-Webhook-Timestamp": timestamp, "X-Webhook-Signature": base64.b64encode(digest).decode()}

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

    # -- upgrades and extension -------------------------------------------------------------------------------

    async def get_1080p(self, request: Request, _: list[Fault]) -> Response:
        task = self.find_finished(request.query_params.get("taskId"))
        if task.upgrade_1080p_path is None:
            if task.upgrade_1080p_started is None:
                if not self.world.charge(UPGRADE_CREDITS["1080p"]):
                    raise Refusal(402, "The current credits are insufficient. Please top up.")
                task.upgrade_1080p_started = time.time()
            if time.time() - task.upgrade_1080p_started < self.config.upgrade_1080p_seconds:
                raise Refusal(400, PROCESSING_1080P)
            width, height = frame_size("1080p", task.aspect_ratio)
            key = f"results/{task.task_id}-1080p.mp4"
            self.world.store(
                key,
                await self.world.render_task(task, width, height, task.seconds),
                "video/mp4",
                keep_for=self.config.retention_seconds,
            )
            task.upgrade_1080p_path = self.world.mint_link(key, "p", ttl=self.config.link_ttl_seconds)
        return self.answer(200, "success", {"resultUrl": self.url(task, task.upgrade_1080p_path)})

    async def get_4k(self, request: Request, faults: list[Fault]) -> Response:
        body = await _json_body(request)
        task = self.find_finished(body.get("taskId"))
        if task.upgrade_4k_task:
            upgrade = self.world.tasks[task.upgrade_4k_task]
            if upgrade.flag == 1:
                data = {
                    "taskId": upgrade.task_id,
                    "resultUrls": [self.url(upgrade, p) for p in upgrade.result_paths],
                    "imageUrls": [self.url(upgrade, p) for p in upgrade.image_paths],
                }
                raise Refusal(422, "The video has been generated successfully", data)
            raise Refusal(422, PROCESSING_4K, {"taskId": upgrade.task_id, "resultUrls": None})
        if self.world.credits < UPGRADE_CREDITS["4k"]:
            raise Refusal(402, "The current credits are insufficient. Please top up.")
        width, height = frame_size("4k", task.aspect_ratio)
        upgrade = self.new_task(
            "4k",
            body,
            request,
            model=task.model,
            width=width,
            height=height,
            seconds=task.seconds,
            resolution="4k",
            callback=_callback_url(body),
            faults=faults,
            cost=UPGRADE_CREDITS["4k"],
            parent=task,
        )
        task.upgrade_4k_task = upgrade.task_id
        self.world.spawn(self.run(upgrade, self.config.upgrade_4k_seconds))
        return self.answer(200, "success", {"taskId": upgrade.task_id, "resultUrls": None, "imageUrls": None})

    async def extend(self, request: Request, faults: list[Fault]) -> Response:
        body = await _json_body(request)
        if not isinstance(body.get("taskId"), str) or not body["taskId"]:
            raise Refusal(422, "taskId is required")
        if not isinstance(body.get("prompt"), str) or not body["prompt"].strip():
            raise Refusal(422, "prompt is required and cannot be empty")
        if body["taskId"] not in self.world.tasks:
            raise Refusal(404, "The original task does not exist")
        original = self.find_finished(body["taskId"])
        model = body.get("model", "fast")
        if model not in EXTEND_MODELS:
            raise Refusal(422, "model must be one of fast, quality, lite")
        cost = MODEL_CREDITS[EXTEND_MODELS[model]]
        if self.world.credits < cost:
            raise Refusal(402, "The current credits are insufficient. Please top up.")
        task = self.new_task(
            "extend",
            body,
            request,
            model=EXTEND_MODELS[model],
            width=original.width,
            height=original.height,
            seconds=original.seconds,
            resolution=original.resolution,
            callback=_callback_url(body),
            faults=faults,
            cost=cost,
            parent=original,
        )
        self.world.spawn(self.run(task, self.config.generation_seconds))
        return self.answer(200, "success", {"taskId": task.task_id})

    # -- account and files ------------------------------------------------------------------------------------

    async def credit(self, request: Request, _: list[Fault]) -> Response:
        credits = self.world.credits
        return self.answer(200, "success", int(credits) if credits.is_integer() else credits)

    async def download_url(self, request: Request, _: list[Fault]) -> Response:
        body = await _json_body(request)
        url = body.get("url")
        if not isinstance(url, str) or not url:
            raise Refusal(422, "url is required")
        base = self.base_url(request)
        path = url.removeprefix(base + "/").split("?")[0] if url.startswith(base + "/") else None
        file_key = self.world.file_key_of_link(path) if path else None
        if file_key is None:
            raise Refusal(422, "Only files generated by Kie are supported")
        stored = self.world.files.get(file_key)
        if stored is None or time.time() >= stored.deleted_at:
            raise Refusal(422, "The file has expired and been deleted")
        fresh = self.world.mint_link(
            file_key, "d", ttl=self.config.download_link_ttl_seconds, suffix="." + path.rsplit(".", 1)[-1]
        )
        return self.answer(200, "success", f"{base}/{fresh}")

    async def upload_stream(self, request: Request, _: list[Fault]) -> Response:
        async with request.form(max_part_size=200 * 1024 * 1024) as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise Refusal(400, "Missing required parameter: file")
            content = await upload.read()
            return self.store_upload(request, content, form.get("uploadPath"), form.get("fileName") or upload.filename)

    async def upload_base64(self, request: Request, _: list[Fault]) -> Response:
        body = await _json_body(request)
        data = body.get("base64Data")
        if not isinstance(data, str) or not data:
            raise Refusal(400, "Missing required parameter: base64Data")
        try:
            content = base64.b64decode(data.split(",", 1)[1] if data.startswith("data:") else data, validate=True)
        except (binascii.Error, ValueError, IndexError):
            raise Refusal(400, "Base64 decoding failed, please check the data format") from None
        return self.store_upload(request, content, body.get("uploadPath"), body.get("fileName"))

    async def upload_url(self, request: Request, _: list[Fault]) -> Response:
        body = await _json_body(request)
        url = body.get("fileUrl")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise Refusal(400, "Missing required parameter: fileUrl (an http or https URL)")
        if not isinstance(body.get("uploadPath"), str):
            raise Refusal(400, "Missing required parameter: uploadPath")
        try:
            response = await self.http.get(url, timeout=30.0)
            response.raise_for_status()
        except httpx.HTTPError:
            raise Refusal(400, "Failed to download the file from fileUrl") from None
        default_name = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or None
        return self.store_upload(
            request, response.content, body.get("uploadPath"), body.get("fileName") or default_name
        )

    def store_upload(self, request: Request, content: bytes, upload_path: Any, file_name: Any) -> Response:
        if not isinstance(upload_path, str) or not upload_path.strip("/"):
            raise Refusal(400, "Missing required parameter: uploadPath")
        mime = _sniff(content)
        if not isinstance(file_name, str) or not file_name.strip():
            file_name = f"{secrets.token_hex(8)}.{mime.rsplit('/', 1)[-1]}"
        file_name = file_name.strip().replace("/", "_")
        path = f"files/emulator/{upload_path.strip('/')}/{file_name}"
        self.world.store(path, content, mime, keep_for=self.config.upload_ttl_seconds)
        self.world.links[path] = Link(path, time.time() + self.config.upload_ttl_seconds)
        data = {
            "fileName": file_name,
            "filePath": f"{upload_path.strip('/')}/{file_name}",
            "downloadUrl": f"{self.base_url(request)}/{path}",
            "fileSize": len(content),
            "mimeType": mime,
            "uploadedAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        }
        return self.answer(200, "File uploaded successfully", data, upload=True)

    async def serve_file(self, request: Request) -> Response:
        path = request.path_params["path"]
        self.world.calls["files"] += 1
        stored = self.world.resolve(path)
        if stored is None:
            return Response(b"Not Found", status_code=404, media_type="text/plain")
        if stored == "expired":
            return Response(
                b"<html><body>404 Not Found: this link has expired</body></html>",
                status_code=404,
                media_type="text/html",
            )
        return Response(stored.content, media_type=stored.mime_type)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}"


def _callback_url(body: dict[str, Any]) -> str | None:
    url = body.get("callBackUrl")
    if url is None or url == "":
        return None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise Refusal(422, "callBackUrl must be an http or https URL")
    return url


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise Refusal(400, "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise Refusal(400, "The request body must be a JSON object")
    return body


def _sniff(content: bytes) -> str:
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content[4:8] == b"ftyp":
        return "video/mp4"
    return "application/octet-stream"
