"""A provider that exists only for the tests, declared in this one file: proof that a provider is one entry.

It is loaded as a plugin (`VEO31_PROVIDER_PLUGINS=tests.slideshow_provider`) and must then be seen everywhere a
built-in one is: routing, `/v1/providers`, the page's choices, `veo31 doctor` and the provider contract suite.
It makes a real (tiny) video: the photos one after another, the first one opening it, at 4 frames a second.
"""

from __future__ import annotations

import asyncio
import io
import secrets
import shutil
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

from veo31.config import Settings
from veo31.domain import Capabilities, Cost, ProviderState, ProviderStatus, ProviderTask
from veo31.errors import InvalidMediaError, TaskNotFoundError
from veo31.providers.base import SubmitRequest
from veo31.providers.entry import DoctorCheck, ProviderEntry, QueueLimits

CAPABILITIES = Capabilities(
    durations=(4, 8),
    aspect_ratios=("16:9", "9:16"),
    resolutions=("720p",),
    images={"first_frame": (1, 1), "first_last": (2, 2), "reference": (1, 3)},
    model_tiers=("fast",),
    callbacks=False,
    follows_prompt=False,
)
FPS = 4
PREFIX = "slides_"


class SlideshowProvider:
    name = "slideshow"
    label = "Test slideshow"
    capabilities = CAPABILITIES
    poll_seconds = 0.2

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def from_settings(cls, settings: Settings) -> SlideshowProvider:
        return cls(Path(settings.data_dir) / "slideshow")

    async def submit(self, request: SubmitRequest) -> ProviderTask:
        if not request.images:
            raise InvalidMediaError("the test slideshow needs photos")
        task_id = PREFIX + secrets.token_hex(8)
        size = (256, 144) if request.aspect_ratio == "16:9" else (144, 256)
        photos = [image.content for image in request.images]
        if request.before_send is not None:
            request.before_send()
        await asyncio.to_thread(_write, self.root / f"{task_id}.mp4", photos, size, request.duration_seconds)
        return ProviderTask(self.name, task_id)

    async def status(self, task_id: str) -> ProviderStatus:
        if not task_id.startswith(PREFIX) or not (self.root / f"{task_id}.mp4").exists():
            raise TaskNotFoundError(f"there is no slideshow {task_id!r}", provider=self.name)
        return ProviderStatus(ProviderState.SUCCEEDED, task_id=task_id, video_urls=(f"slides:{task_id}",))

    async def download(self, url: str, target: Path, *, max_bytes: int) -> int:
        source = self.root / f"{url.removeprefix('slides:')}.mp4"
        return await asyncio.to_thread(_copy, source, target)

    async def aclose(self) -> None:
        return None


def _copy(source: Path, target: Path) -> int:
    shutil.copyfile(source, target)
    return target.stat().st_size


def _write(path: Path, photos: list[bytes], size: tuple[int, int], seconds: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = FPS * seconds
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.codec_context.time_base = Fraction(1, FPS)
        pictures = [Image.open(io.BytesIO(photo)).convert("RGB").resize(size) for photo in photos]
        for index in range(frames):
            picture = pictures[min(index * len(pictures) // frames, len(pictures) - 1)]
            frame = av.VideoFrame.from_image(picture)
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


async def _doctor(settings: Settings) -> DoctorCheck:
    return DoctorCheck(True, "ready (made for the tests)")


ENTRY = ProviderEntry(
    name=SlideshowProvider.name,
    label=SlideshowProvider.label,
    capabilities=CAPABILITIES,
    factory=SlideshowProvider.from_settings,
    configured=lambda settings: True,
    setup_hint="nothing to set",
    queue_limits=lambda settings: QueueLimits(worker=4, fleet=None, starts=100, period=1.0),
    estimate=lambda query, settings: Cost(0.01 * query.duration_seconds, "a test price: $0.01 a second"),
    doctor=_doctor,
)
PLUGIN = "tests.slideshow_provider"
