"""Google Veo 3.1 behind the provider contract, on either of Google's surfaces (../shared/specs/gemini-veo31-api.md).

The transports (`transports.py`) speak Vertex AI through Google's SDK and the Gemini API over REST; this class
plans the request, retries what may be retried, and reads operations the same way for both. The task id is the
operation's full name: it is all a later process needs to poll, after a restart or on another worker. Which
surface: Vertex when `GOOGLE_GENAI_USE_VERTEXAI=true`, else the Gemini API when `GEMINI_API_KEY` is set.
`check()` asks for each tier's model (free): a retired model is a setting to fix.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from veo31.config import Settings
from veo31.domain import ProviderStatus, ProviderTask
from veo31.errors import (
    CapabilityError,
    ConfigurationError,
    InvalidRequestError,
    ModelUnavailableError,
    ProviderConnectionError,
    ProviderError,
    RateLimitedError,
    ResultExpiredError,
    TaskNotFoundError,
    UnavailableError,
)
from veo31.providers._http import RetryPolicy, call_with_retries
from veo31.providers.base import SubmitRequest
from veo31.providers.gemini.errors import LABEL, PROVIDER
from veo31.providers.gemini.ops import GEMINI_CAPABILITIES, INLINE, Operation, VeoRequest, classify, plan
from veo31.providers.gemini.transports import OPERATION_NAME, GeminiApiTransport, VertexTransport

log = logging.getLogger("veo31.gemini")

DEFAULT_MODELS = {
    "vertex": {
        "fast": "veo-3.1-fast-generate-001",
        "quality": "veo-3.1-generate-001",
        "lite": "veo-3.1-lite-generate-001",
    },
    "gemini-api": {
        "fast": "veo-3.1-fast-generate-preview",
        "quality": "veo-3.1-generate-preview",
        "lite": "veo-3.1-lite-generate-preview",
    },
}
SURFACE_LABELS = {"vertex": "Vertex AI", "gemini-api": "the Gemini API"}


def models_for(settings: Settings, surface: str) -> dict[str, str]:
    defaults = DEFAULT_MODELS[surface]
    return {
        "fast": settings.gemini_model or defaults["fast"],
        "quality": settings.gemini_quality_model or defaults["quality"],
        "lite": settings.gemini_lite_model or defaults["lite"],
    }


def retry_reads(error: ProviderError) -> bool:
    return error.retryable


def retry_submit(error: ProviderError) -> bool:
    """A submission is repeated only when Google cannot have started an operation: a per-minute 429 or an
    overloaded 503 is a refusal, a connection never made sent nothing."""
    if isinstance(error, ProviderConnectionError) and not error.task_may_exist:
        return True
    if isinstance(error, RateLimitedError):
        return error.retryable
    return isinstance(error, UnavailableError) and error.http_status == 503


class Transport(Protocol):
    surface: str

    async def start(self, veo: VeoRequest, before_send: Callable[[], None] | None = None) -> str:
        """Start the paid operation; `before_send` (the durable "maybe sent" marker) runs before Google can have
        the whole request."""

    async def operation(self, name: str) -> Operation: ...

    async def check_model(self, model: str) -> None: ...

    async def download(self, uri: str, target: Path, *, max_bytes: int) -> int: ...

    async def aclose(self) -> None: ...


class GeminiProvider:
    name = PROVIDER
    label = LABEL
    capabilities = GEMINI_CAPABILITIES
    poll_seconds = None  # Google's samples poll every 10 s: the pipeline's own schedule

    def __init__(self, transport: Transport, models: dict[str, str], *, policy: RetryPolicy | None = None) -> None:
        self.transport = transport
        self.models = models
        self.policy = policy or RetryPolicy()
        self._inline: dict[str, bytes] = {}  # videos read inside an operation, kept until downloaded

    @classmethod
    def from_settings(cls, settings: Settings) -> GeminiProvider:
        surface = settings.google_surface
        if surface == "vertex":
            transport: Transport = VertexTransport.from_settings(settings)
        elif surface == "gemini-api":
            transport = GeminiApiTransport.from_settings(settings)
        else:
            raise ConfigurationError(
                "Google is not configured: set GEMINI_API_KEY (the Gemini API), or GOOGLE_GENAI_USE_VERTEXAI=true "
                "with GOOGLE_API_KEY or GOOGLE_CLOUD_PROJECT (Vertex AI)"
            )
        return cls(transport, models_for(settings, surface))

    @property
    def surface(self) -> str:
        return self.transport.surface

    async def submit(self, request: SubmitRequest) -> ProviderTask:
        model = self.models.get(request.model_tier)
        if model is None:
            raise CapabilityError(f"{LABEL} has no {request.model_tier} model", field="model_tier")
        veo = plan(request, model, seed_allowed=self.surface == "vertex")

        async def attempt() -> str:
            return await self.transport.start(veo, request.before_send)

        name = await call_with_retries(attempt, self.policy, should_retry=retry_submit)
        log.info("Google operation %s started on %s with %s", name, SURFACE_LABELS[self.surface], model)
        return ProviderTask(self.name, name)

    async def status(self, task_id: str) -> ProviderStatus:
        if not OPERATION_NAME.match(task_id):
            raise TaskNotFoundError(f"{task_id!r} is not a Google operation name", provider=self.name)
        operation = await call_with_retries(
            lambda: self.transport.operation(task_id), self.policy, should_retry=retry_reads
        )
        status = classify(operation)
        if operation.videos and operation.videos[0].data is not None:
            self._inline[operation.name or task_id] = operation.videos[0].data
        return status

    async def download(self, url: str, target: Path, *, max_bytes: int) -> int:
        if url.startswith(INLINE):
            return await self._write_inline(url.removeprefix(INLINE), target, max_bytes)
        if url.startswith("gs://"):
            raise InvalidRequestError(
                f"{LABEL} stored the video in Cloud Storage ({url}); veo31 reads inline results only — "
                "leave the output bucket unset",
                provider=self.name,
            )
        return await self.transport.download(url, target, max_bytes=max_bytes)

    async def _write_inline(self, name: str, target: Path, max_bytes: int) -> int:
        content = self._inline.pop(name, None)
        if content is None:  # another process polled it, or this one restarted: ask again
            operation = await self.transport.operation(name)
            videos = [video for video in operation.videos if video.data is not None]
            if not videos:
                raise ResultExpiredError(f"{LABEL} no longer has the video of {name}", provider=self.name)
            content = videos[0].data or b""
        if len(content) > max_bytes:
            raise ProviderConnectionError(
                f"{LABEL}'s video is larger than {max_bytes // (1024 * 1024)} MB", provider=self.name, retryable=False
            )
        await asyncio.to_thread(target.write_bytes, content)
        return len(content)

    async def check(self) -> str | None:
        """None when every tier's model is served; otherwise which are not, and what to set."""
        problems = []
        for tier, model in self.models.items():
            try:
                await call_with_retries(
                    lambda model=model: self.transport.check_model(model), self.policy, should_retry=retry_reads
                )
            except ModelUnavailableError:
                setting = {"fast": "VEO31_GEMINI_MODEL"}.get(tier, f"VEO31_GEMINI_{tier.upper()}_MODEL")
                problems.append(
                    f"{tier} model {model} is retired or unknown on {SURFACE_LABELS[self.surface]} (set {setting})"
                )
            except ProviderError as error:
                return f"{LABEL} could not be asked about its models: {error.message}"
        return "; ".join(problems) or None

    async def aclose(self) -> None:
        await self.transport.aclose()
