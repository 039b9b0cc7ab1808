"""Kie.ai behind the provider contract: our request → Kie's generate body, Kie's answers → our statuses.

Upgrades: Kie's 1080p version has no task of its own (`get-1080p-video` is asked until it answers with a link),
and a 4K upgrade's task id is not always given back (a repeated `get-4k-video` answers 422 with where it stands).
Both are followed through an upgrade handle `<original task id>@<resolution>`, which `status` answers by asking
the upgrade endpoint again; a 4K upgrade whose own task id is known is followed with record-info like any task.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

from veo31.config import Settings
from veo31.domain import Capabilities, Cost, ProviderState, ProviderStatus, ProviderTask
from veo31.errors import CapabilityError, ProviderError, TaskNotFoundError
from veo31.providers._http import stream_to_file
from veo31.providers.base import ImageInput, SubmitRequest
from veo31.providers.kie.client import KieClient
from veo31.providers.kie.errors import LABEL, PROVIDER
from veo31.providers.kie.status import read_kie_status

KIE_CAPABILITIES = Capabilities(
    durations=(8,),  # spec §4: clips are 8 s; `duration` is undocumented, so it is never sent
    aspect_ratios=("16:9", "9:16"),
    resolutions=("720p", "1080p", "4k"),
    images={"text": (0, 0), "first_frame": (1, 1), "first_last": (2, 2), "reference": (1, 3)},
    model_tiers=("fast", "quality", "lite"),
    tiers_by_mode={"reference": ("fast", "lite")},
    callbacks=True,
    upgrades=("1080p", "4k"),
    upgrade_costs={
        "1080p": "about 5 Kie.ai credits (≈ $0.03)",
        "4k": "about 120 Kie.ai credits (≈ $0.60)",
    },  # spec §13, [UNCERTAIN]
)
GENERATION_TYPES = {
    "text": "TEXT_2_VIDEO",
    "first_frame": "FIRST_AND_LAST_FRAMES_2_VIDEO",
    "first_last": "FIRST_AND_LAST_FRAMES_2_VIDEO",
    "reference": "REFERENCE_2_VIDEO",
}
MODELS = {"fast": "veo3_fast", "quality": "veo3", "lite": "veo3_lite"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
UPGRADE_MARK = "@"  # Kie's task ids are letters, digits and underscores: this cannot clash with one


class KieProvider:
    name = PROVIDER
    label = LABEL
    capabilities = KIE_CAPABILITIES
    poll_seconds = None

    def __init__(self, client: KieClient, *, credit_usd: float = 0.005) -> None:
        self.client = client
        self.credit_usd = credit_usd
        self._started = 0  # submissions begun in this process: a balance difference is ours only if alone
        self._in_flight = 0
        self._balance_before: dict[str, tuple[float, int]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> KieProvider:
        return cls(KieClient.from_settings(settings), credit_usd=settings.kie_credit_usd)

    async def submit(self, request: SubmitRequest) -> ProviderTask:
        image_urls = [await self._public_url(image) for image in request.images]
        self._started += 1
        ticket = self._started
        before = await self._balance() if self._in_flight == 0 else None
        self._in_flight += 1
        try:
            task = await self._generate(request, image_urls)
        finally:
            self._in_flight -= 1
        if before is not None:
            self._balance_before[task.task_id] = (before, ticket)
        return task  # at once: the task id must be recorded before anything else is asked

    async def reported_cost(self, task_id: str) -> Cost | None:
        """The credit balance's fall across the submission, asked after its task id was recorded — only when no
        other submission of this process overlapped it (Kie reports no price; another process on the same key
        would still blur it, so the figure says how it was found)."""
        pending = self._balance_before.pop(task_id, None)
        if pending is None:
            return None
        before, ticket = pending
        if self._started != ticket or self._in_flight:
            return None
        after = await self._balance()
        if after is None or self._started != ticket or after > before:
            return None
        spent = before - after
        return Cost(round(spent * self.credit_usd, 4), f"Kie.ai balance fell by {spent:g} credits")

    async def _balance(self) -> float | None:
        try:
            return await self.client.credits()
        except ProviderError:
            return None  # the cost stays an estimate; the submission does not depend on it

    async def _generate(self, request: SubmitRequest, image_urls: list[str]) -> ProviderTask:
        prompt = request.prompt
        if request.negative_prompt:
            # Kie's Veo body has no negative prompt field; Veo reads a plain "Avoid" sentence well enough.
            prompt = f"{prompt.rstrip()} Avoid: {request.negative_prompt.strip().rstrip('.')}."
        return await self.client.generate(
            prompt,
            model=MODELS[request.model_tier],  # type: ignore[arg-type]
            image_urls=image_urls,
            generation_type=GENERATION_TYPES[request.mode],  # type: ignore[arg-type]
            aspect_ratio=request.aspect_ratio,  # type: ignore[arg-type]
            resolution=request.resolution,  # type: ignore[arg-type]
            seeds=None if request.seed is None else 10000 + request.seed % 90000,
            enable_translation=True,
            callback_url=request.callback_url,
            before_send=request.before_send,
        )

    async def _public_url(self, image: ImageInput) -> str:
        """The user's own public URL when there is one; otherwise the bytes go through Kie's upload host."""
        if image.source_url:
            return image.source_url
        # Named by content: Kie keeps one file per path and name, so a shared name would let the second photo
        # of a generation overwrite the first (both URLs would then show the same picture).
        name = f"{hashlib.sha256(image.content).hexdigest()[:24]}.{EXTENSIONS.get(image.mime_type, 'bin')}"
        upload = await self.client.upload_file(image.content, upload_path="images/veo31", file_name=name)
        return upload.download_url

    async def status(self, task_id: str) -> ProviderStatus:
        original, _, resolution = task_id.partition(UPGRADE_MARK)
        if resolution == "1080p":
            url = await self.client.get_1080p_video(original)
            return _upgrade_status(task_id, (url,) if url else (), resolution)
        if resolution == "4k":
            result = await self.client.get_4k_video(original)
            return _upgrade_status(task_id, result.video_urls if result.state == "done" else (), resolution)
        status = await self.client.record_info(task_id)
        if status.state is ProviderState.FAILED:  # spec §11: Kie does not charge a task that failed
            return dataclasses.replace(status, charged=False)
        return status

    async def upgrade(self, task_id: str, resolution: str, *, callback_url: str | None) -> ProviderTask:
        """Start the 1080p or 4K version of a finished task. Kie makes each at most once per task: a repeated
        1080p request reads the same result, a repeated 4K request is refused with 422 and where it stands."""
        if resolution == "1080p":
            await self.client.get_1080p_video(task_id)  # starts it; refusals (unfinished, fallback task) surface now
            return ProviderTask(self.name, f"{task_id}{UPGRADE_MARK}1080p")
        if resolution == "4k":
            result = await self.client.get_4k_video(task_id, callback_url=callback_url)
            return ProviderTask(self.name, result.task_id or f"{task_id}{UPGRADE_MARK}4k")
        raise CapabilityError(
            f"Kie.ai upgrades to {', '.join(KIE_CAPABILITIES.upgrades)}, not {resolution}",
            field="resolution",
            allowed=list(KIE_CAPABILITIES.upgrades),
        )

    def parse_callback(self, payload: Any) -> ProviderStatus:
        return read_kie_status(payload)

    async def download(self, url: str, target: Path, *, max_bytes: int) -> int:
        return await stream_to_file(
            self.client.http.timeout, url, target, provider=self.name, label=self.label, max_bytes=max_bytes
        )

    async def fresh_url(self, url: str) -> str | None:
        try:
            return await self.client.download_url(url)
        except TaskNotFoundError:
            return None

    async def aclose(self) -> None:
        await self.client.aclose()


def _upgrade_status(handle: str, urls: tuple[str, ...], resolution: str) -> ProviderStatus:
    if urls:
        return ProviderStatus(ProviderState.SUCCEEDED, task_id=handle, video_urls=urls, resolution=resolution)
    return ProviderStatus(ProviderState.GENERATING, task_id=handle, resolution=resolution)
