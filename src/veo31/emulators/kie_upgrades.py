"""The Kie emulator's 1080p and 4K versions of a finished task, and extensions (spec §8, §9, §13)."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from veo31.emulators.faults import Fault
from veo31.emulators.kie_answers import (
    PROCESSING_4K,
    PROCESSING_1080P,
    Refusal,
    callback_url_of,
    json_body,
)
from veo31.emulators.kie_world import (
    EXTEND_MODELS,
    MODEL_CREDITS,
    UPGRADE_CREDITS,
    frame_size,
)


class UpgradesAndExtension:
    """Mixed into `KieEmulator`, whose world, answers and task lookups it uses."""

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
        body = await json_body(request)
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
            callback=callback_url_of(body),
            faults=faults,
            cost=UPGRADE_CREDITS["4k"],
            parent=task,
        )
        task.upgrade_4k_task = upgrade.task_id
        self.world.spawn(self.run(upgrade, self.config.upgrade_4k_seconds))
        return self.answer(200, "success", {"taskId": upgrade.task_id, "resultUrls": None, "imageUrls": None})

    async def extend(self, request: Request, faults: list[Fault]) -> Response:
        body = await json_body(request)
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
            callback=callback_url_of(body),
            faults=faults,
            cost=cost,
            parent=original,
        )
        self.world.spawn(self.run(task, self.config.generation_seconds))
        return self.answer(200, "success", {"taskId": task.task_id})
