"""The provider contract: a small core every way of making a video offers, and optional parts some do.

Core: `submit` creates exactly one remote task; `status` is the authority on its outcome; `download` streams a
finished video to a local file; `aclose` lets go of connections.

Optional, each checked with `isinstance` where the pipeline needs it:
- `Upgrades` (only where `capabilities.upgrades` lists resolutions) starts a higher-resolution rendition of a
  finished task and returns the task to follow with `status`. It must be safe to call twice for the same task and
  resolution — the provider, not our bookkeeping, refuses to make (and charge) a second one — because a crash
  between the call and its checkpoint repeats it.
- `CallsBack` reads a callback, as a hint only: the workflow it wakes confirms with `status`.
- `ReportsCost` tells what a submission cost, asked once right after its task id was recorded.
- `RefreshesLinks` asks for a new link when the old one expired.
- `ChecksItself` is asked once at start-up: a configuration the provider cannot serve (Google: a retired model)
  is named by `/readyz` and `veo31 doctor` instead of failing generations one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from veo31.domain import Capabilities, Cost, ProviderStatus, ProviderTask


@dataclass(frozen=True)
class ImageInput:
    content: bytes
    mime_type: str
    source_url: str | None = None


@dataclass(frozen=True)
class SubmitRequest:
    """One generation as a provider needs it: the written prompt, the resolved mode, and the images' bytes."""

    prompt: str
    mode: str
    model_tier: str
    duration_seconds: int
    aspect_ratio: str
    resolution: str
    negative_prompt: str | None = None
    seed: int | None = None
    images: tuple[ImageInput, ...] = field(default=())
    callback_url: str | None = None
    use_case: str = "product_video"
    product_name: str | None = None
    fps: int | None = None
    # Called synchronously at the last moment before the paid request leaves (after any free uploads), so a
    # durable "maybe sent" marker is written with the smallest possible gap to the send.
    before_send: Callable[[], None] | None = field(default=None, compare=False, repr=False)


@runtime_checkable
class Provider(Protocol):
    name: str
    label: str
    capabilities: Capabilities
    # How often `status` may be asked (seconds); None: the pipeline's own schedule (10 s, backing off to 30 s).
    poll_seconds: float | None

    async def submit(self, request: SubmitRequest) -> ProviderTask: ...

    async def status(self, task_id: str) -> ProviderStatus: ...

    async def download(self, url: str, target: Path, *, max_bytes: int) -> int: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class Upgrades(Protocol):
    async def upgrade(self, task_id: str, resolution: str, *, callback_url: str | None) -> ProviderTask: ...


@runtime_checkable
class CallsBack(Protocol):
    def parse_callback(self, payload: Any) -> ProviderStatus: ...


@runtime_checkable
class ReportsCost(Protocol):
    async def reported_cost(self, task_id: str) -> Cost | None:
        """What the submission of `task_id` cost (and how that was found); None when it cannot be told."""
        ...


@runtime_checkable
class RefreshesLinks(Protocol):
    async def fresh_url(self, url: str) -> str | None: ...


@runtime_checkable
class ChecksItself(Protocol):
    async def check(self) -> str | None:
        """At start-up: None when the provider can work as configured, else what to fix (free calls only)."""
        ...
