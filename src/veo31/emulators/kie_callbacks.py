"""The Kie emulator's callbacks: what it sends when a task ends (spec §10), signed, retried, and faulted on request."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from veo31.emulators.kie_world import (
    Task,
)


class Callbacks:
    """Mixed into `KieEmulator`, whose world, answers and task lookups it uses."""

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
