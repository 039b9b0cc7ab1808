"""An OpenAI-compatible chat-completions emulator, so the `llm` analyser is developed and tested offline.

`veo31 emulate llm --port 8300`, then `VEO31_LLM_BASE_URL=http://127.0.0.1:8300/v1`. It answers
`POST /v1/chat/completions` as OpenAI does (the same body and error shapes), checks the key, reads the images
the request carries (data URLs), and answers a `response_format` JSON schema with values derived from those
images by the local analyser — so the answer really depends on what was sent. Faults, per run or per request,
as for the Kie emulator: `rate_limit` (429 + Retry-After), `server_error`, `slow`, `malformed` (content that is
not JSON), `drop`. Control: `GET /_emulator/state`, `POST /_emulator/faults`, `POST /_emulator/reset`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import re
import secrets
import time
from collections import Counter
from typing import Any

import cv2
import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from veo31.analysis.local import analyse_images, load_rgb
from veo31.emulators.faults import FAULT_HEADER, REQUEST_FAULTS, FaultBook, fault_routes, faults_from_header
from veo31.errors import InvalidMediaError


def error(
    status: int, message: str, kind: str, code: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": kind, "param": None, "code": code}}, status_code=status, headers=headers
    )


class LlmEmulator:
    def __init__(self, api_keys: list[str] | None = None) -> None:
        self.api_keys = api_keys
        self.faults = FaultBook()
        self.calls: Counter[str] = Counter()
        self.requests: list[dict[str, Any]] = []

    def reset(self) -> None:
        self.faults.clear()
        self.calls.clear()
        self.requests.clear()

    async def completions(self, request: Request) -> Response:
        self.calls["chat.completions"] += 1
        try:
            faults = self.faults.take("chat.completions", REQUEST_FAULTS) + faults_from_header(
                request.headers.get(FAULT_HEADER)
            )
        except ValueError as exc:
            return error(400, str(exc), "invalid_request_error")
        refusal = self.check_key(request)
        if refusal is not None:
            return refusal
        for fault in faults:
            if fault.kind == "rate_limit":
                return error(
                    429,
                    "Rate limit reached for requests",
                    "requests",
                    "rate_limit_exceeded",
                    headers={
                        "Retry-After": str(int(fault.retry_after)),
                        "retry-after-ms": str(int(fault.retry_after * 1000)),
                    },
                )
            if fault.kind in ("server_error", "maintenance"):
                return error(500, "The server had an error while processing your request.", "server_error")
            if fault.kind == "slow":
                await asyncio.sleep(fault.seconds)
        try:
            body = await request.json()
        except ValueError:
            return error(400, "We could not parse the JSON body of your request.", "invalid_request_error")
        if not isinstance(body, dict) or not body.get("model") or not isinstance(body.get("messages"), list):
            return error(400, "'model' and 'messages' are required properties", "invalid_request_error")
        try:
            images = images_in(body["messages"])
        except ValueError as exc:
            return error(400, str(exc), "invalid_request_error", "invalid_image_url")
        self.requests.append(
            {
                "model": body["model"],
                "images": len(images),
                "response_format": (body.get("response_format") or {}).get("type"),
            }
        )
        content = await self.answer(body, images)
        if any(fault.kind == "malformed" for fault in faults):
            content = content[: len(content) // 2]
        return JSONResponse(
            {
                "id": f"chatcmpl-{secrets.token_hex(12)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": None},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": 100 + 250 * len(images),
                    "completion_tokens": len(content) // 4,
                    "total_tokens": 100 + 250 * len(images) + len(content) // 4,
                },
            }
        )

    def check_key(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        key = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        if not key or (self.api_keys is not None and not any(hmac.compare_digest(key, k) for k in self.api_keys)):
            return error(
                401,
                "Incorrect API key provided. You can find your API key in your account settings.",
                "invalid_request_error",
                "invalid_api_key",
            )
        return None

    async def answer(self, body: dict[str, Any], images: list[bytes]) -> str:
        schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema")
        try:
            analysis = await asyncio.to_thread(analyse_images, images) if images else None
        except InvalidMediaError:
            analysis = None
        facts = analysis.model_dump() if analysis else {}
        facts["per_image_notes"] = [note.notes for note in analysis.images] if analysis else []
        facts.update(prompt_from_brief(body["messages"]))
        if isinstance(schema, dict) and "same_product" in (schema.get("properties") or {}):
            facts.update(await asyncio.to_thread(verdict_on, body["messages"], images))
        if not isinstance(schema, dict):
            return analysis.summary if analysis else "I see no images."
        return json.dumps(fill(schema, facts))


def prompt_from_brief(messages: list[Any]) -> dict[str, str]:
    """For a prompt-writing request (a JSON brief with template hints and an analysis): a prompt built from it."""
    text = next((m.get("content") for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"), "")
    try:
        brief = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return {}
    if not isinstance(brief, dict) or not isinstance(brief.get("template_hint"), dict):
        return {}
    hint = brief["template_hint"]
    subject = f"the {brief['product_name']}" if brief.get("product_name") else "the product"
    summary = (brief.get("analysis") or {}).get("summary") or ""
    prompt = (
        f"{str(hint.get('action', '')).format(subject=subject)}. Camera: {hint.get('camera')}. "
        f"Lighting: {hint.get('lighting')}. Style: {hint.get('style')}. Audio: {hint.get('audio')}. {summary}"
    )
    prompt = prompt.strip()
    return {
        "prompt": prompt[:1].upper() + prompt[1:],
        "negative_prompt": "text overlays, watermarks, a distorted product",
    }


def verdict_on(messages: list[Any], images: list[bytes]) -> dict[str, Any]:
    """A product check's verdict, as a model might give it: the same product when the photos' and the frames'
    subjects share their main colour (the request says how many images are photos)."""
    text = " ".join(
        part.get("text", "")
        for message in messages
        if isinstance(message, dict) and isinstance(message.get("content"), list)
        for part in message["content"]
        if isinstance(part, dict) and part.get("type") == "text"
    )
    found = re.search(r"(\d+) reference photo", text)
    count = int(found.group(1)) if found else 1
    photos, frames = images[:count], images[count:]
    if not photos or not frames:
        return {"same_product": False, "differences": ["nothing to compare"], "summary": "no frames"}
    photo_hue, frame_hues = _hue_of(photos[0]), [_hue_of(frame) for frame in frames]
    turned = max((min(abs(hue - photo_hue), 360 - abs(hue - photo_hue)) for hue in frame_hues), default=0.0)
    if turned <= 30:
        return {"same_product": True, "differences": [], "summary": "the product of the photos"}
    return {
        "same_product": False,
        "differences": [f"the product's colour: its hue is about {round(turned)}° from the one in the photos"],
        "summary": "another colour",
    }


def _hue_of(content: bytes) -> float:
    """The mean hue (degrees) of an image's strongly coloured pixels."""
    rgb = load_rgb(content, max_side=256)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL).reshape(-1, 3).astype(np.float32)
    coloured = hsv[(hsv[:, 1] > 100) & (hsv[:, 2] > 60)]
    if len(coloured) == 0:
        return 0.0
    angles = np.radians(coloured[:, 0] * 360 / 256)
    return float(np.degrees(np.arctan2(np.sin(angles).mean(), np.cos(angles).mean())) % 360)


def images_in(messages: list[Any]) -> list[bytes]:
    found = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        for part in content if isinstance(content, list) else []:
            if isinstance(part, dict) and part.get("type") == "image_url":
                url = (part.get("image_url") or {}).get("url", "")
                if not url.startswith("data:") or ";base64," not in url:
                    raise ValueError("only data: URLs with base64 images are supported by this emulator")
                try:
                    found.append(base64.b64decode(url.split(";base64,", 1)[1], validate=True))
                except (binascii.Error, ValueError):
                    raise ValueError("an image_url is not valid base64") from None
    return found


def fill(schema: dict[str, Any], facts: dict[str, Any]) -> Any:
    """A value for `schema`, taking each property from the facts where one of that name exists."""
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {
            name: facts.get(name) if _fits(facts.get(name), sub) else fill(sub, facts)
            for name, sub in (schema.get("properties") or {}).items()
        }
    if kind == "array":
        return []
    if kind == "number" or kind == "integer":
        return 0
    if kind == "boolean":
        return False
    return ""


def _fits(value: Any, schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    if value is None:
        return False
    return {
        "string": isinstance(value, str),
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
        "number": isinstance(value, int | float),
        "integer": isinstance(value, int),
        "boolean": isinstance(value, bool),
    }.get(kind, False)


def create_llm_emulator(api_keys: list[str] | None = None) -> Starlette:
    emulator = LlmEmulator(api_keys)

    async def state(_: Request) -> Response:
        return JSONResponse(
            {"calls": dict(emulator.calls), "requests": emulator.requests, "faults": emulator.faults.describe()}
        )

    async def reset(_: Request) -> Response:
        emulator.reset()
        return JSONResponse({"reset": True})

    app = Starlette(
        routes=[
            Route("/v1/chat/completions", emulator.completions, methods=["POST"]),
            Route("/_emulator/state", state, methods=["GET"]),
            *fault_routes(emulator.faults),
            Route("/_emulator/reset", reset, methods=["POST"]),
        ]
    )
    app.state.emulator = emulator
    return app
