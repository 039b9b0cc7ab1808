"""Pure data shared by every room: provider task and status, and the error tree.

Nothing here does I/O or imports anything of ours. Every error a person can act on has its own class,
and every message says what to do next — never a key, token or secret.

    Veo31Error
    ├── ConfigurationError              a setting is missing or unsafe ("set KIE_API_KEY")
    ├── InputError                      the request itself is wrong (→ HTTP 4xx); .field when known
    │   ├── InvalidMediaError               a file is not the image or video it claims to be
    │   ├── UnsafeUrlError                  a URL points somewhere we will not fetch from
    │   ├── ImageFetchError                 a reference URL could not be fetched
    │   ├── CapabilityError                 the provider cannot serve this combination; .allowed
    │   └── BudgetExceededError             the spend cap (VEO31_BUDGET_LIMIT) would be passed
    ├── NotFoundError                   no such generation (→ 404)
    ├── ConflictError                   the generation is in a state that forbids this (→ 409)
    ├── StorageError                    the blob store (data folder or S3 bucket) failed (→ 503)
    └── ProviderError                   a provider refused or failed; .provider, .code, .retryable
        ├── AuthenticationError             key missing, wrong or not allowed
        ├── InsufficientCreditsError        the account cannot pay for this
        ├── RateLimitedError                too many requests; .retry_after (seconds) when known
        ├── UnavailableError                maintenance, overload, server error, feature disabled
        ├── InvalidRequestError             the provider rejected the request; carries its message
        ├── ReferenceImageUnreachableError  the provider could not fetch a reference image URL
        ├── ContentRejectedError            content policy / safety filter
        ├── TaskNotFoundError               unknown task id, or older than the provider keeps records
        ├── GenerationFailedError           the task ran and failed; .error_code, .error_message
        ├── TimedOutError                   the provider produced nothing in time
        ├── SubmissionUncertainError        a paid request was sent but its outcome is unknown
        ├── ResultExpiredError              the finished video is no longer at the provider
        ├── ModelUnavailableError           the configured model is retired or unknown (a setting to fix)
        └── ProviderConnectionError         the provider could not be reached or answered garbage
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Veo31Error(Exception):
    """Root of every error veo31 raises on purpose. `kind` names the error in answers: `invalid_media`, …"""

    kind: str = "error"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" not in cls.__dict__:
            cls.kind = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__.removesuffix("Error")).lower()

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(Veo31Error):
    """A setting is missing, malformed or unsafe; the message names the setting to fix."""


class InputError(Veo31Error):
    """The request is wrong in a way the person sending it can fix; `field` names the part at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidMediaError(InputError):
    """A file is not a decodable image or video of the kind expected; the message says what is wrong."""


class UnsafeUrlError(InputError):
    """A URL is not http(s), or resolves to an address we refuse to fetch from (private, loopback, …)."""


class ImageFetchError(InputError):
    """A reference image URL could not be fetched: unreachable, too slow, too large, or not found."""


class CapabilityError(InputError):
    """The chosen provider cannot make this video; `allowed` lists what it can do for the setting at fault."""

    def __init__(self, message: str, *, field: str | None = None, allowed: list[Any] | None = None) -> None:
        super().__init__(message, field=field)
        self.allowed = allowed or []


class BudgetExceededError(InputError):
    """Submitting this would pass the spend cap; the message names the cap, what is spent, and this one's cost."""


class NotFoundError(Veo31Error):
    """No generation (or video, or task) by that id."""


class ConflictError(Veo31Error):
    """The generation's state forbids what was asked (e.g. cancelling a finished one)."""


class MediaProcessError(Veo31Error):
    """A media process died while working on a file, twice: out of memory, or a file that crashes the decoder."""


class StorageError(Veo31Error):
    """The blob store could not be read or written: a full disk, an unreachable bucket, refused S3 keys."""


class ProviderError(Veo31Error):
    """A provider refused or failed a call.

    `retryable` says whether the same call may succeed later without any change by the user.
    `task_may_exist` is set on submissions whose failure cannot prove that no task (and no charge) was made.
    """

    retryable: bool = False
    kind: str = "provider_error"

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        code: int | None = None,
        http_status: int | None = None,
        task_may_exist: bool = False,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable
        self.provider = provider
        self.code = code
        self.http_status = http_status
        self.task_may_exist = task_may_exist

    def __repr__(self) -> str:
        return f"{type(self).__name__}(provider={self.provider!r}, code={self.code!r}, message={self.message!r})"


class AuthenticationError(ProviderError):
    kind = "authentication"


class InsufficientCreditsError(ProviderError):
    kind = "insufficient_credits"


class RateLimitedError(ProviderError):
    kind = "rate_limited"
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class UnavailableError(ProviderError):
    kind = "unavailable"
    retryable = True


class InvalidRequestError(ProviderError):
    kind = "invalid_request"


class ReferenceImageUnreachableError(ProviderError):
    kind = "reference_image_unreachable"


class ContentRejectedError(ProviderError):
    kind = "content_rejected"


class TaskNotFoundError(ProviderError):
    kind = "task_not_found"


class GenerationFailedError(ProviderError):
    kind = "generation_failed"

    def __init__(
        self, message: str, *, error_code: int | None = None, error_message: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.error_code = error_code
        self.error_message = error_message


class TimedOutError(ProviderError):
    kind = "timed_out"
    retryable = True


class SubmissionUncertainError(ProviderError):
    kind = "submission_uncertain"

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("task_may_exist", True)
        super().__init__(message, **kwargs)


class ResultExpiredError(ProviderError):
    kind = "result_expired"


class ModelUnavailableError(ProviderError):
    """The provider does not serve the configured model (retired, or never existed): a setting to fix, not a
    transient failure."""

    kind = "model_unavailable"


class ProviderConnectionError(ProviderError):
    kind = "connection"
    retryable = True


# What a person can do about each kind of failure, in plain words ({provider} is the provider's name).
ADVICE = {
    "insufficient_credits": "{provider} says this account has no credits left — top up, or choose another provider.",
    "authentication": "{provider} refused the API key — check the key in the server's settings.",
    "rate_limited": "{provider} is limiting how fast requests come in — retry in a minute.",
    "unavailable": "{provider} is unavailable or down for maintenance — retry later, or choose another provider.",
    "connection": "veo31 could not reach {provider} — check the server's network, then retry.",
    "content_rejected": "{provider} refused the content — change the prompt or the photos, then retry.",
    "reference_image_unreachable": "{provider} could not fetch a reference image — upload the file instead, "
    "or use a public image URL.",
    "invalid_request": "{provider} refused the request as sent — change the settings, then retry.",
    "generation_failed": "{provider} could not make this video — retry; if it fails again, "
    "change the prompt or the photos.",
    "timed_out": "{provider} has not finished yet — veo31 keeps the task and looks again later; nothing is lost.",
    "submission_uncertain": "Check {provider}'s task log before retrying, so you do not pay twice.",
    "result_expired": "{provider} no longer has the video — generate it again.",
    "model_unavailable": "{provider} no longer serves the configured model — set VEO31_GEMINI_MODEL to one it serves "
    "(on Vertex AI: veo-3.1-fast-generate-001), or choose another provider.",
    "budget_exceeded": "The spend cap (VEO31_BUDGET_LIMIT) is reached — raise it, or choose the local renderer.",
    "task_not_found": "{provider} does not know this task — generate it again.",
    "invalid_media": "Use a different photo (JPEG, PNG or WebP), then retry.",
    "image_fetch": "Check that the image URL opens in a browser, or upload the file instead.",
    "canceled": "Canceled on request — retry to make it again.",
    "interrupted": "veo31 could not finish it — retry it.",
}


def advice_for(kind: str | None, provider_label: str | None) -> str | None:
    text = ADVICE.get(kind or "")
    return text.format(provider=provider_label or "The provider") if text else None


class Status(enum.StrEnum):
    """Where a generation stands, as people see it. Every change is recorded with a timestamp."""

    QUEUED = "queued"
    PREPARING = "preparing"
    SUBMITTED = "submitted"
    GENERATING = "generating"
    RETRIEVING = "retrieving"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def terminal(self) -> bool:
        return self in (Status.COMPLETED, Status.FAILED, Status.CANCELED)


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
    upgrade_costs: dict[str, str] = field(default_factory=dict)  # what each upgrade costs, in the provider's words

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
    extra: dict[str, Any] = field(default_factory=dict)

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
ProviderChoice = Literal["auto", "kie", "gemini", "local"]
ModelTier = Literal["fast", "quality", "lite"]
AspectRatio = Literal["16:9", "9:16"]
Resolution = Literal["720p", "1080p", "4k"]
RESOLUTION_RANK = {"720p": 0, "1080p": 1, "4k": 2}
Mode = Literal["auto", "text", "first_frame", "first_last", "reference"]
MAX_REFERENCE_IMAGES = 3


class GenerationSpec(BaseModel):
    """What a person asked for. Reference images travel beside it (uploads or URLs), never inside it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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
    """Refuse, before any call, what `caps` cannot make; returns the resolved mode."""
    mode = resolve_mode(spec.mode, image_count, spec.model_tier, caps)
    if mode == "text" and "text" not in caps.images:
        most = max(high for _, high in caps.images.values())
        raise CapabilityError(
            f"{provider} cannot make a video from text alone: send 1–{most} reference images", field="images"
        )
    _require(mode, tuple(caps.images), "mode", provider)
    low, high = caps.images[mode]
    if not low <= image_count <= high:
        allowed = list(range(low, high + 1))
        raise CapabilityError(
            f"{provider} takes {low}–{high} reference images in {mode} mode, not {image_count}",
            field="images",
            allowed=allowed,
        )
    _require(spec.model_tier, caps.tiers_by_mode.get(mode, caps.model_tiers), "model_tier", provider, mode)
    _require(spec.aspect_ratio, caps.aspect_ratios, "aspect_ratio", provider)
    _require(spec.resolution, caps.resolutions_by_tier.get(spec.model_tier, caps.resolutions), "resolution", provider)
    _require(spec.duration_seconds, caps.allowed_durations(mode, spec.resolution), "duration_seconds", provider, mode)
    if spec.fps is not None:
        _require(spec.fps, caps.frame_rates, "fps", provider)
    return mode


def _require(value: Any, allowed: tuple[Any, ...], name: str, provider: str, mode: str | None = None) -> None:
    if value not in allowed:
        where = f" in {mode} mode" if mode else ""
        listed = spoken(allowed)
        raise CapabilityError(
            f"{provider} cannot do {name}={value}{where}; allowed: {listed}", field=name, allowed=list(allowed)
        )


def spoken(allowed: tuple[Any, ...]) -> str:
    """Allowed values as a person reads them: a run of whole numbers as "2–30", the rest listed."""
    numbers = all(isinstance(item, int) and not isinstance(item, bool) for item in allowed)
    if numbers and len(allowed) > 3 and list(allowed) == list(range(allowed[0], allowed[0] + len(allowed))):
        return f"{allowed[0]}–{allowed[-1]}"
    return ", ".join(str(item) for item in allowed) or "none"
