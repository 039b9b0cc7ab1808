"""The local renderer behind the provider contract: a product video from the reference photos, with no network.

`submit` writes the job (the request and its photos) into the data folder and starts rendering in a worker
thread; `status` reports it. The job on disk is the task: after a crash, `status` finds a job with no video and
no render running and starts it again — rendering is free and deterministic, so doing it twice costs only time.
`download` moves the finished file out; the job stays, so a later `status` could make it again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import av

from veo31.config import Settings
from veo31.domain import Capabilities, Cost, ProviderState, ProviderStatus, ProviderTask
from veo31.errors import GenerationFailedError, InvalidMediaError, TaskNotFoundError
from veo31.media.render import RenderSpec, encoder_problem, render_video
from veo31.providers.base import SubmitRequest
from veo31.providers.entry import FREE, DoctorCheck, PriceQuery, ProviderEntry, QueueLimits

log = logging.getLogger("veo31.local")

LOCAL_CAPABILITIES = Capabilities(
    durations=tuple(range(2, 31)),
    aspect_ratios=("16:9", "9:16"),
    resolutions=("720p", "1080p"),
    images={"reference": (1, 3), "first_frame": (1, 1), "first_last": (2, 2)},
    model_tiers=("fast", "quality", "lite"),
    callbacks=False,
    frame_rates=(24, 30),
    default_fps=30,
    follows_prompt=False,  # it animates the photos; the prompt is kept with the video, not used
    makes_audio=True,  # a quiet musical bed (media.music), mixed to a social video's loudness
)
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
# The tier picks the encoder's effort: the picture (the photos' motion) is the same.
ENCODER = {"lite": ("ultrafast", 24), "fast": ("superfast", 21), "quality": ("medium", 18)}
PREFIX = "local_"


@dataclass(frozen=True)
class Job:
    use_case: str
    product_name: str | None
    width: int
    height: int
    fps: int
    duration: int
    model_tier: str
    images: int

    def spec(self) -> RenderSpec:
        preset, crf = ENCODER.get(self.model_tier, ENCODER["fast"])
        return RenderSpec(
            self.width,
            self.height,
            fps=self.fps,
            duration=self.duration,
            use_case=self.use_case,
            title=self.product_name,
            crf=crf,
            x264_preset=preset,
        )


class LocalProvider:
    name = "local"
    label = "Local renderer"
    capabilities = LOCAL_CAPABILITIES
    poll_seconds = 0.5  # status is a look at a folder: asking often costs nothing

    def __init__(self, root: Path, concurrency: int = 1) -> None:
        self.root = Path(root)
        self._running: dict[str, asyncio.Task[None]] = {}
        self._concurrency = concurrency
        self._slots: asyncio.Semaphore | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalProvider:
        return cls(Path(settings.data_dir) / "local-renders", settings.local_concurrency)

    async def submit(self, request: SubmitRequest) -> ProviderTask:
        if not request.images:
            raise InvalidMediaError("the local renderer needs 1–3 photos; it cannot make a video from text alone")
        width, height = SIZES[request.resolution]
        if request.aspect_ratio == "9:16":
            width, height = height, width
        job = Job(
            use_case=request.use_case,
            product_name=request.product_name,
            width=width,
            height=height,
            fps=request.fps or LOCAL_CAPABILITIES.default_fps,
            duration=request.duration_seconds,
            model_tier=request.model_tier,
            images=len(request.images),
        )
        task_id = PREFIX + secrets.token_hex(12)
        await asyncio.to_thread(self._write_job, task_id, job, [image.content for image in request.images])
        if request.before_send is not None:
            request.before_send()
        self._start(task_id)
        return ProviderTask(self.name, task_id)

    def _write_job(self, task_id: str, job: Job, images: list[bytes]) -> None:
        scratch = self.root / f".{task_id}"
        scratch.mkdir(parents=True)
        for index, content in enumerate(images):
            (scratch / f"photo-{index}").write_bytes(content)
        (scratch / "job.json").write_text(json.dumps(asdict(job)), encoding="utf-8")
        os.replace(scratch, self.root / task_id)  # a job is on disk whole or not at all

    async def status(self, task_id: str) -> ProviderStatus:
        folder = self._folder(task_id)
        if (folder / "video.mp4").exists():
            return ProviderStatus(ProviderState.SUCCEEDED, task_id=task_id, video_urls=(f"local:{task_id}",))
        failure = folder / "error.txt"
        if failure.exists():
            reason = failure.read_text(encoding="utf-8")
            return ProviderStatus(
                ProviderState.FAILED,
                task_id=task_id,
                error=GenerationFailedError(
                    f"the local renderer could not make this video: {reason}", provider="local"
                ),
            )
        if task_id not in self._running:
            log.info("local render %s has no video and is not running (a restart?); rendering it now", task_id)
            self._start(task_id)
        return ProviderStatus(ProviderState.GENERATING, task_id=task_id)

    async def download(self, url: str, target: Path, *, max_bytes: int) -> int:
        source = self._folder(url.removeprefix("local:")) / "video.mp4"
        if not source.exists():
            raise TaskNotFoundError(f"the local render {url} is no longer there", provider="local")
        return await asyncio.to_thread(_move, source, Path(target))

    async def aclose(self) -> None:
        for task in self._running.values():
            task.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)

    def _folder(self, task_id: str) -> Path:
        folder = self.root / task_id
        if not task_id.startswith(PREFIX) or not task_id[len(PREFIX) :].isalnum() or not folder.is_dir():
            raise TaskNotFoundError(f"there is no local render {task_id!r}", provider="local")
        return folder

    def _start(self, task_id: str) -> None:
        task = asyncio.get_running_loop().create_task(self._render(task_id), name=f"render {task_id}")
        self._running[task_id] = task
        task.add_done_callback(lambda _: self._running.pop(task_id, None))

    async def _render(self, task_id: str) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._concurrency)
        async with self._slots:
            await asyncio.to_thread(render_job, self.root / task_id)


def render_job(folder: Path) -> None:
    """Render one job folder's video; a failure is written down for `status` to report."""
    try:
        job = Job(**json.loads((folder / "job.json").read_text(encoding="utf-8")))
        photos = [(folder / f"photo-{index}").read_bytes() for index in range(job.images)]
        render_video(photos, job.spec(), folder / "video.mp4")
    except InvalidMediaError as error:
        (folder / "error.txt").write_text(error.message, encoding="utf-8")
    except (OSError, ValueError, av.FFmpegError) as error:
        # Written down, so `status` reports it instead of starting the same failing render again and again.
        log.exception("local render in %s failed", folder)
        (folder / "error.txt").write_text(f"{type(error).__name__}: {error}", encoding="utf-8")


def _move(source: Path, target: Path) -> int:
    shutil.move(source, target)
    return target.stat().st_size


def _configured(settings: Settings) -> bool:
    return not settings.local_disabled


def _queue_limits(settings: Settings) -> QueueLimits:
    # Renders wait their turn inside the renderer (VEO31_LOCAL_CONCURRENCY at once); the queue only feeds it, so it
    # may hold many, and starting one costs nothing.
    return QueueLimits(worker=50, fleet=None, starts=20, period=10.0)


def _estimate(query: PriceQuery, settings: Settings) -> Cost:
    return FREE


async def _doctor(settings: Settings) -> DoctorCheck:
    problem = await asyncio.to_thread(encoder_problem)
    return DoctorCheck(problem is None, problem or "ready (no network needed)")


ENTRY = ProviderEntry(
    name=LocalProvider.name,
    label=LocalProvider.label,
    capabilities=LOCAL_CAPABILITIES,
    factory=LocalProvider.from_settings,
    configured=_configured,
    setup_hint="unset VEO31_LOCAL_DISABLED",
    queue_limits=_queue_limits,
    estimate=_estimate,
    doctor=_doctor,
    account_logs="the server's log",
)
