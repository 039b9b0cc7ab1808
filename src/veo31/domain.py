"""Pure data shared by every room: provider task and status, the generation, the request and what a provider
can make. The error tree is in `veo31.errors` (one import path per name).

Nothing here does I/O or imports anything of ours but the errors.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from veo31.errors import CapabilityError, ProviderError


class Status(enum.StrEnum):
    """Where a generation stands, as people see it. Every change is recorded with a timestamp."""

    QUEUED = "queued"
    PREPARING = "preparing"
    SUBMITTED = "submitted"
    GENERATING = "generating"
    RETRIEVING = "retrieving"
    CHECKING = "checking"  # the video is ours; the quality gate looks at it
    NEEDS_REVIEW = "needs_review"  # the video failed the gate (policy `hold`): a person approves or rejects it
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def terminal(self) -> bool:
        """Ended: nothing moves it again."""
        return self in (Status.COMPLETED, Status.FAILED, Status.CANCELED)

    @property
    def settled(self) -> bool:
        """Out of the pipeline's hands: ended, or waiting for a person's review (no workflow runs for it)."""
        return self.terminal or self is Status.NEEDS_REVIEW


@dataclass(frozen=True)
class StatusChange:
    status: Status
    at: datetime
    detail: str | None = None


@dataclass(frozen=True)
class Capabilities:
    """What a provider can make, checked before any call so a bad combination never costs anything.

    `images` maps a generation mode to the (min, max) reference images it takes; `durations_by_resolution`
    narrows the durations for resolutions that force one (Veo: 1080p and 4k only at 8 s).
    """

    durations: tuple[int, ...]
    aspect_ratios: tuple[str, ...]
    resolutions: tuple[str, ...]
    images: dict[str, tuple[int, int]]
    model_tiers: tuple[str, ...]
    callbacks: bool
    durations_by_mode: dict[str, tuple[int, ...]] = field(default_factory=dict)
    durations_by_resolution: dict[str, tuple[int, ...]] = field(default_factory=dict)
    tiers_by_mode: dict[str, tuple[str, ...]] = field(default_factory=dict)
    resolutions_by_tier: dict[str, tuple[str, ...]] = field(default_factory=dict)
    upgrades: tuple[str, ...] = ()
    frame_rates: tuple[int, ...] = (24,)
    default_fps: int = 24  # the rate a request that names none gets
    upgrade_costs: dict[str, str] = field(default_factory=dict)  # what each upgrade costs, in the provider's words
    follows_prompt: bool = True  # False: the video is made from the photos alone (the local renderer)
    makes_audio: bool = True  # Veo 3.1 makes a sound track; the quality gate checks it is there and not silent

    def allowed_durations(self, mode: str, resolution: str) -> tuple[int, ...]:
        allowed = set(self.durations)
        allowed &= set(self.durations_by_mode.get(mode, self.durations))
        allowed &= set(self.durations_by_resolution.get(resolution, self.durations))
        return tuple(sorted(allowed))


class ProviderState(enum.StrEnum):
    """What a provider says about one remote task."""

    GENERATING = "generating"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ProviderTask:
    """One remote task, as recorded right after a submission was accepted."""

    provider: str
    task_id: str


@dataclass(frozen=True)
class Cost:
    """Money in US dollars, so providers and the budget add up, with how the figure was reached in words a person
    checks against the provider's price list or account."""

    usd: float
    basis: str


@dataclass(frozen=True)
class ProviderStatus:
    """A provider's answer about one task, normalised.

    `raw` keeps the provider's body as it came, so a shape nobody could read is still there to diagnose.
    `error` is set when the state is FAILED and says why, as a typed error.
    """

    state: ProviderState
    task_id: str | None = None
    video_urls: tuple[str, ...] = ()
    origin_urls: tuple[str, ...] = ()
    full_video_urls: tuple[str, ...] = ()
    resolution: str | None = None
    error: ProviderError | None = None
    raw: Any = None
    # What the provider said beyond the state, each where it tells it (None: not told).
    charged: bool | None = None  # False: this task cost nothing (a failure the provider does not bill)
    retry_same: bool = False  # the same request may be sent again as it is (a passing failure, not charged)
    reported_cost: Cost | None = None  # the provider's own figure for this task
    sent_prompt: str | None = None  # the prompt the task was made from, as the provider kept it
    created_at: datetime | None = None
    completed_at: datetime | None = None
    fallback: bool | None = None  # Kie: made by its fallback model (no 1080p version then)
    media_ids: tuple[str, ...] = ()

    @property
    def video_url(self) -> str | None:
        """The first playable result, preferring a full (extended) video when there is one."""
        for urls in (self.full_video_urls, self.video_urls):
            if urls:
                return urls[0]
        return None


# -- a generation -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Generation:
    """One generation as stored: what was asked, where it stands, and every step it went through.

    `callback_token` is internal: it is in callback URLs given to providers and never in an answer to a person.
    """

    id: str
    status: Status
    spec: GenerationSpec
    created_at: datetime
    updated_at: datetime
    callback_token: str
    history: tuple[StatusChange, ...] = ()
    references: tuple[ReferenceImage, ...] = ()
    provider: str | None = None
    mode: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    prompt_writer: str | None = None
    provider_task_id: str | None = None
    provider_video_url: str | None = None
    video_key: str | None = None
    poster_key: str | None = None
    video_info: dict[str, Any] | None = None
    error_kind: str | None = None
    error_message: str | None = None
    warnings: tuple[str, ...] = ()
    parent_id: str | None = None
    upgrade_of: str | None = None
    idempotency_key: str | None = None
    deadline_at: datetime | None = None
    submit_started_at: datetime | None = None
    fetch_attempts: int = 0
    analysis: dict[str, Any] | None = None
    reference_video: dict[str, Any] | None = None  # {"notes": VideoNotes as JSON, "stills": [blob keys]}
    cost_estimate_usd: float | None = None  # before submitting, from the price settings
    cost_usd: float | None = None  # what it cost, as reported (or known: 0 when the provider charged nothing)
    cost_basis: str | None = None
    quality: dict[str, Any] | None = None  # the quality gate's report (`QualityReport` as JSON, its frame apart)
    quality_frame_key: str | None = None  # the picture of the photo beside the worst frame
    attempts: tuple[dict[str, Any], ...] = ()  # earlier paid attempts the gate set aside (policy `retry`)
    earlier_cost_usd: float = 0.0  # what those attempts cost
    deliverable_of: str | None = None  # a deliverable: the generation whose video it is made from
    preset: str | None = None  # and the channel preset it is made for
    approved_at: datetime | None = None  # when a person approved a video the quality gate failed
    branding: dict[str, Any] | None = None  # a deliverable's brand kit as it was, and its price

    @property
    def quality_failed(self) -> bool:
        """The quality gate checked its video and found fault (and no person has approved it since)."""
        return bool(self.quality) and not self.quality.get("passed", True) and self.approved_at is None

    def download_name(self, extension: str = "mp4") -> str:
        """The file name a download of its video gets, on the page and from `veo31 fetch`: the product and day (a
        rendition adds its resolution; a deliverable its preset, its brand kit, version and price, and its bars)."""
        parts = [self.spec.product_name or "veo31-video", f"{self.created_at:%Y-%m-%d}"]
        if self.preset:
            parts.append(self.preset)
            finish = self.branding or {}
            if "settings" in finish:
                parts += [finish["settings"]["name"], f"v{finish['version']}", finish.get("price")]
            if finish.get("letterbox"):
                parts.append("bars")
        elif self.upgrade_of:
            parts.append(self.spec.resolution)
        if self.video_key and "." in self.video_key.rsplit("/", 1)[-1]:
            extension = self.video_key.rsplit(".", 1)[-1]  # a deliverable may be an animated WebP
        slugs = [re.sub(r"[^A-Za-z0-9]+", "-", part).strip("-").lower() for part in parts if part]
        slugs[0] = slugs[0][:60] or "veo31-video"
        return "-".join(slug for slug in slugs if slug) + f".{extension}"

    @property
    def workflow_id(self) -> str:
        """The workflow now responsible: the generation's own, or its latest late fetch."""
        return f"{self.id}-fetch-{self.fetch_attempts}" if self.fetch_attempts else self.id


# -- the request --------------------------------------------------------------------------------------------------

UseCase = Literal[
    "product_video",
    "hero_image",
    "gemstone_closeup",
    "luxury_brand",
    "general",
    "lifestyle",
    "unboxing",
    "social_vertical",
    "turntable_360",
]
USE_CASES: tuple[str, ...] = UseCase.__args__  # type: ignore[attr-defined]
# `auto` or a provider's name; which names exist is the registry's to say (providers are entries, plugins too).
ProviderChoice = Annotated[str, Field(min_length=1, max_length=32, examples=["auto", "kie", "gemini", "local"])]
ModelTier = Literal["fast", "quality", "lite"]
AspectRatio = Literal["16:9", "9:16"]
Resolution = Literal["720p", "1080p", "4k"]
RESOLUTION_RANK = {"720p": 0, "1080p": 1, "4k": 2}
Mode = Literal["auto", "text", "first_frame", "first_last", "reference"]
MAX_REFERENCE_IMAGES = 3
MAX_VIDEO_BYTES = 1024 * 1024 * 1024  # a provider's video larger than this is refused, not stored


# Control characters have no place in what a person types: NUL above all, which PostgreSQL refuses in text (a
# generation would be stored, then die there). Prompts keep tab and line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_PROMPT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
FIELD_WORDS = {
    "product_name": "the product name",
    "extra_prompt": "the extra prompt text",
    "prompt": "the prompt",
    "negative_prompt": "the negative prompt",
}


def refuse_control_characters(value: str | None, what: str, *, line_breaks: bool = False) -> str | None:
    """`value` unchanged, or a ValueError saying which text holds a control character (such as NUL)."""
    if value is not None and (_CONTROL_IN_PROMPT if line_breaks else _CONTROL).search(value):
        allowed = " (tabs and line breaks are fine)" if line_breaks else ""
        raise ValueError(f"{what} contains a control character such as NUL; remove it{allowed}")
    return value


class GenerationSpec(BaseModel):
    """What a person asked for. Reference images travel beside it (uploads or URLs), never inside it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("product_name", "extra_prompt", "prompt", "negative_prompt")
    @classmethod
    def _no_control_characters(cls, value: str | None, info: ValidationInfo) -> str | None:
        name = info.field_name or ""
        return refuse_control_characters(value, FIELD_WORDS.get(name, name), line_breaks=name != "product_name")

    use_case: UseCase = "product_video"
    product_name: str | None = Field(default=None, max_length=200)
    extra_prompt: str | None = Field(default=None, max_length=2000, description="appended to the written prompt")
    prompt: str | None = Field(default=None, min_length=1, max_length=4000, description="skip prompt writing")
    negative_prompt: str | None = Field(default=None, max_length=1000)
    provider: ProviderChoice = "auto"
    model_tier: ModelTier = "fast"
    duration_seconds: int = Field(default=8, ge=1, le=60)
    aspect_ratio: AspectRatio = "16:9"
    resolution: Resolution = "720p"
    seed: int | None = Field(default=None, ge=0, le=4_294_967_295)
    mode: Mode = "auto"
    fps: int | None = Field(
        default=None,
        ge=1,
        le=60,
        description="frames per second (the provider's capabilities list which); its own if unset",
    )


@dataclass(frozen=True)
class ReferenceImage:
    """A reference image after intake: checked, normalised, stored by content hash."""

    sha256: str
    mime_type: str
    width: int
    height: int
    blob_key: str
    source_url: str | None = None


def resolve_mode(requested: str, image_count: int, tier: str, caps: Capabilities) -> str:
    """The generation mode `auto` stands for: text alone, a product reference, or first (and last) frames."""
    if requested != "auto":
        return requested
    if image_count == 0:
        return "text"
    low, high = caps.images.get("reference", (1, 0))
    if low <= image_count <= high and tier in caps.tiers_by_mode.get("reference", caps.model_tiers):
        return "reference"
    return "first_frame" if image_count == 1 else "first_last"


def check_capabilities(spec: GenerationSpec, image_count: int, caps: Capabilities, provider: str) -> str:
    """Refuse, before any call, what `caps` cannot make; returns the resolved mode. Refusals speak the form's
    words (photos, seconds, frames per second), never a field name."""
    mode = resolve_mode(spec.mode, image_count, spec.model_tier, caps)
    if mode == "text" and "text" not in caps.images:
        most = max(high for _, high in caps.images.values())
        raise CapabilityError(
            f"{provider} cannot make a video from text alone: add 1–{most} product photos", field="images"
        )
    if mode not in caps.images:
        ways = " or ".join(mode_words(known, caps) for known in caps.images)
        raise CapabilityError(
            f"{provider} cannot make a video {mode_words(mode, caps)}; it makes them {ways}",
            field="mode",
            allowed=list(caps.images),
        )
    low, high = caps.images[mode]
    if not low <= image_count <= high:
        needs = (
            f"makes videos with {_count(low, high)} product photos"
            if mode == "reference"
            else f"needs {_count(low, high)} photos to make a video {mode_words(mode, caps)}"
        )
        raise CapabilityError(
            f"{provider} {needs}, not {image_count}",
            field="images",
            allowed=list(range(low, high + 1)),
        )
    where = f" {mode_words(mode, caps)}"
    tiers = caps.tiers_by_mode.get(mode, caps.model_tiers)
    _require(spec.model_tier, tiers, "model_tier", f"{provider} offers the {_or(tiers)} model{where}")
    _require(
        spec.aspect_ratio, caps.aspect_ratios, "aspect_ratio", f"{provider} makes {_or(caps.aspect_ratios)} videos"
    )
    resolutions = caps.resolutions_by_tier.get(spec.model_tier, caps.resolutions)
    tier = f" with the {spec.model_tier} model" if spec.model_tier in caps.resolutions_by_tier else ""
    _require(spec.resolution, resolutions, "resolution", f"{provider} makes {_or(resolutions)} videos{tier}")
    durations = caps.allowed_durations(mode, spec.resolution)
    at = f" at {spec.resolution}" if spec.resolution in caps.durations_by_resolution else ""
    _require(
        spec.duration_seconds,
        durations,
        "duration_seconds",
        f"{provider} makes {spoken(durations, ' or ')} s videos{where}{at}",
        unit=" s",
    )
    if spec.fps is not None:
        rates = caps.frame_rates
        _require(spec.fps, rates, "fps", f"{provider} makes videos at {_or(rates)} frames per second")
    return mode


def mode_words(mode: str, caps: Capabilities) -> str:
    """How the form says a mode: what the video is made from."""
    if mode == "reference":
        low, high = caps.images.get("reference", (1, 3))
        return f"with {_count(low, high)} product photos"
    return {
        "text": "from text alone",
        "first_frame": "from a first frame",
        "first_last": "from a first and a last frame",
    }.get(mode, f"in {mode} mode")


def _count(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}–{high}"


def _or(allowed: tuple[Any, ...]) -> str:
    return spoken(allowed, " or ")


def _require(value: Any, allowed: tuple[Any, ...], name: str, offer: str, unit: str = "") -> None:
    """Refuse `value` unless allowed, saying what the provider offers instead (`offer`, in the form's words)."""
    if value not in allowed:
        raise CapabilityError(f"{offer}, not {value}{unit}", field=name, allowed=list(allowed))


def spoken(allowed: tuple[Any, ...], joiner: str = ", ") -> str:
    """Allowed values as a person reads them: a run of whole numbers as "2–30", the rest listed."""
    numbers = all(isinstance(item, int) and not isinstance(item, bool) for item in allowed)
    if numbers and len(allowed) > 3 and list(allowed) == list(range(allowed[0], allowed[0] + len(allowed))):
        return f"{allowed[0]}–{allowed[-1]}"
    return joiner.join(str(item) for item in allowed) or "none"
