"""Pure data shared by every room: provider task and status, and the error tree.

Nothing here does I/O or imports anything of ours. Every error a person can act on has its own class,
and every message says what to do next — never a key, token or secret.

    Veo31Error
    ├── ConfigurationError              a setting is missing or unsafe ("set KIE_API_KEY")
    ├── InvalidMediaError               a file is not the image or video it claims to be
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
        └── ProviderConnectionError         the provider could not be reached or answered garbage
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Veo31Error(Exception):
    """Root of every error veo31 raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(Veo31Error):
    """A setting is missing, malformed or unsafe; the message names the setting to fix."""


class InvalidMediaError(Veo31Error):
    """A file is not a decodable image or video of the kind expected; the message says what is wrong."""


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


class ProviderConnectionError(ProviderError):
    kind = "connection"
    retryable = True


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
