"""What the Kie.ai emulator remembers: its settings, tasks, files and links, credits, and call counts.

Everything the HTTP layer (`emulators/kie.py`) answers is read from here, and everything a generation does
over time (finish after the simulated generation time, render its MP4, call back) happens here.
"""

from __future__ import annotations

import asyncio
import io
import secrets
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal
from urllib.parse import urlsplit

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from veo31.emulators.clips import pad_mp4, render_pattern_clip, render_photo_clip, shift_hue
from veo31.emulators.faults import Fault, FaultBook
from veo31.media.testpattern import test_pattern_frame

CHINA = timezone(timedelta(hours=8))
DAY = 86_400.0

# Credits per 8 s 720p clip and per upgrade (spec §11; third-party measurements, 2026-06).
MODEL_CREDITS = {"veo3": 250.0, "veo3_fast": 168.0, "veo3_lite": 30.0}
EXTEND_MODELS = {"quality": "veo3", "fast": "veo3_fast", "lite": "veo3_lite"}
UPGRADE_CREDITS = {"1080p": 5.0, "4k": 120.0}
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080), "4k": (3840, 2160)}


class KieEmulatorConfig(BaseModel):
    """How the emulator behaves for a run; every field can be changed live through `POST /_emulator/config`."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    api_keys: list[str] | None = Field(default=None, description="accepted keys; null accepts any non-empty key")
    generation_seconds: float = Field(default=30.0, ge=0, description="simulated time from submit to done")
    generation_jitter_seconds: float = Field(default=0.0, ge=0, description="random extra time per task")
    result_min_bytes: int = Field(
        default=0, ge=0, le=2**31, description="pad results to this size with an MP4 'free' box (players skip it)"
    )
    clip_seconds: float = Field(default=8.0, gt=0, le=60, description="length of the result videos")
    fps: int = Field(default=24, ge=1, le=60)
    render_photos: bool = Field(default=True, description="render results from the task's images (else a test pattern)")
    upgrade_1080p_seconds: float = Field(default=60.0, ge=0)
    upgrade_4k_seconds: float = Field(default=300.0, ge=0)
    link_ttl_seconds: float = Field(default=14 * DAY, ge=0, description="how long a result link works")
    retention_seconds: float = Field(default=14 * DAY, ge=0, description="how long result files and records exist")
    download_link_ttl_seconds: float = Field(default=1200.0, ge=0, description="links from download-url")
    upload_ttl_seconds: float = Field(default=3 * DAY, ge=0)
    initial_credits: float = Field(default=10_000.0, ge=0)
    rate_limit: int = Field(default=20, ge=1, description="new generations allowed per rate_window_seconds")
    rate_window_seconds: float = Field(default=10.0, gt=0)
    error_style: Literal["envelope", "http"] = Field(
        default="envelope", description="envelope: HTTP 200 with the error code in the body; http: real status"
    )
    callback_delay_seconds: float = Field(default=0.0, ge=0)
    callback_attempts: int = Field(default=3, ge=1, le=10)
    hmac_key: str | None = Field(default=None, description="sign callbacks as Kie does when a webhook key is set")
    public_url: str | None = Field(default=None, description="base URL put into links; default: as requested")
    fetch_timeout_seconds: float = Field(default=10.0, gt=0)


@dataclass
class StoredFile:
    content: bytes
    mime_type: str
    deleted_at: float


@dataclass
class Link:
    file_key: str
    expires_at: float


@dataclass
class Task:
    task_id: str
    kind: Literal["generate", "extend", "4k"]
    params: dict[str, Any]
    model: str
    width: int
    height: int
    seconds: float
    resolution: str
    callback_url: str | None
    faults: list[Fault]
    base_url: str = ""
    created_at: float = field(default_factory=time.time)
    completed_at: float | None = None
    flag: int = 0
    error_code: int | None = None
    error_message: str | None = None
    result_paths: list[str] = field(default_factory=list)
    full_result_paths: list[str] = field(default_factory=list)
    image_paths: list[str] = field(default_factory=list)
    charged: float = 0.0
    parent_id: str | None = None
    upgrade_1080p_started: float | None = None
    upgrade_1080p_path: str | None = None
    upgrade_4k_task: str | None = None
    callbacks: list[dict[str, Any]] = field(default_factory=list)

    def has_fault(self, kind: str) -> Fault | None:
        return next((fault for fault in self.faults if fault.kind == kind), None)

    @property
    def aspect_ratio(self) -> str:
        return "16:9" if self.width >= self.height else "9:16"


def kie_time(epoch: float | None) -> str | None:
    """Kie prints times as 'YYYY-MM-DD HH:MM:SS' in China time."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=UTC).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def frame_size(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    width, height = SIZES[resolution]
    return (width, height) if aspect_ratio == "16:9" else (height, width)


class KieWorld:
    """The emulator's memory. All mutation happens on the server's event loop."""

    def __init__(self, config: KieEmulatorConfig) -> None:
        self.initial_config = config.model_copy()
        self.config = config
        self.faults = FaultBook()
        self.reset()
        self._render_cache: dict[tuple[int, int, float, int], bytes] = {}
        self._render_locks: dict[tuple[int, int, float, int], asyncio.Lock] = {}

    def reset(self) -> None:
        self.config = self.initial_config.model_copy()
        self.faults.clear()
        self.tasks: dict[str, Task] = {}
        self.files: dict[str, StoredFile] = {}
        self.links: dict[str, Link] = {}
        self.calls: Counter[str] = Counter()
        self.user_agents: Counter[str] = Counter()
        self.credits = self.config.initial_credits
        self.requests: deque[float] = deque()
        self.background: set[asyncio.Task[None]] = set()

    # -- accounting -----------------------------------------------------------------------------------------

    def rate_limited_for(self, now: float) -> float | None:
        """Seconds until a new generation is allowed, or None if one is allowed now (and counted)."""
        window = self.config.rate_window_seconds
        while self.requests and now - self.requests[0] >= window:
            self.requests.popleft()
        if len(self.requests) >= self.config.rate_limit:
            return max(0.0, window - (now - self.requests[0]))
        self.requests.append(now)
        return None

    def charge(self, amount: float) -> bool:
        if self.credits < amount:
            return False
        self.credits -= amount
        return True

    # -- files and links ------------------------------------------------------------------------------------

    def store(self, key: str, content: bytes, mime_type: str, *, keep_for: float) -> None:
        self.files[key] = StoredFile(content, mime_type, time.time() + keep_for)

    def mint_link(self, file_key: str, prefix: str, *, ttl: float, suffix: str = ".mp4") -> str:
        path = f"{prefix}/{secrets.token_hex(16)}_{int(time.time())}{suffix}"
        self.links[path] = Link(file_key, time.time() + ttl)
        return path

    def resolve(self, path: str) -> StoredFile | None | Literal["expired"]:
        """The file behind a link path; 'expired' when the link or the file is gone, None when unknown."""
        link = self.links.get(path)
        if link is None:
            return None
        stored = self.files.get(link.file_key)
        now = time.time()
        if now >= link.expires_at or stored is None or now >= stored.deleted_at:
            return "expired"
        return stored

    def file_key_of_link(self, path: str) -> str | None:
        link = self.links.get(path)
        return link.file_key if link else None

    # -- rendering ------------------------------------------------------------------------------------------

    async def render_task(self, task: Task, width: int, height: int, seconds: float) -> bytes:
        """The task's result: rendered by veo31's local renderer from the reference images the task was given
        (those on this emulator's own upload host), or the test pattern when it has none."""
        photos = self.photos_of(task)
        if not photos or not self.config.render_photos:
            return await self.render(width, height, seconds)
        if task.has_fault("hue_shift"):  # a result that shows the product in another colour
            photos = [await asyncio.to_thread(shift_hue, photo) for photo in photos]
        content = await asyncio.to_thread(render_photo_clip, photos, width, height, seconds, self.config.fps)
        return pad_mp4(content, self.config.result_min_bytes)

    def photos_of(self, task: Task) -> list[bytes]:
        source = self.tasks.get(task.parent_id or "", task) if task.kind == "4k" else task
        photos = []
        for url in (source.params.get("imageUrls") or [])[:3]:
            stored = self.resolve(urlsplit(str(url)).path.lstrip("/"))
            if isinstance(stored, StoredFile):
                photos.append(stored.content)
        return photos

    async def render(self, width: int, height: int, seconds: float) -> bytes:
        """A real H.264 MP4 of the asked size, rendered off the event loop and reused for equal requests."""
        key = (width, height, round(seconds, 3), self.config.fps)
        lock = self._render_locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._render_cache:
                self._render_cache[key] = await asyncio.to_thread(render_pattern_clip, *key)
        return pad_mp4(self._render_cache[key], self.config.result_min_bytes)

    async def thumbnail(self, width: int, height: int) -> bytes:
        return await asyncio.to_thread(_thumbnail_bytes, width, height)

    # -- background work ------------------------------------------------------------------------------------

    def spawn(self, coroutine: Any) -> None:
        """Run `coroutine` in the background, keeping a reference so it is not collected mid-flight."""
        job = asyncio.get_running_loop().create_task(coroutine)
        self.background.add(job)
        job.add_done_callback(self.background.discard)

    async def stop(self) -> None:
        for job in list(self.background):
            job.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)


def _thumbnail_bytes(width: int, height: int) -> bytes:
    image = Image.fromarray(test_pattern_frame(width, height, 0, 24))
    image.thumbnail((640, 640))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()
