"""The error tree every room shares: importing it costs nothing beyond the standard library (the media processes
import it without pydantic).

Every error a person can act on has its own class, and every message says what to do next — never a key, token
or secret.

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

import re
from typing import Any


class Veo31Error(Exception):
    """Root of every error veo31 raises on purpose. `kind` names the error in answers: `invalid_media`, …"""

    kind: str = "error"
    answer_status: int = 400  # our HTTP answer's status when this reaches the API; each branch says its own

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" not in cls.__dict__:
            cls.kind = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__.removesuffix("Error")).lower()

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(Veo31Error):
    """A setting is missing, malformed or unsafe; the message names the setting to fix."""

    answer_status = 503


class InputError(Veo31Error):
    """The request is wrong in a way the person sending it can fix; `field` names the part at fault."""

    answer_status = 422

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

    answer_status = 402


class NotFoundError(Veo31Error):
    """No generation (or video, or task) by that id."""

    answer_status = 404


class ConflictError(Veo31Error):
    """The generation's state forbids what was asked (e.g. cancelling a finished one)."""

    answer_status = 409


class MediaProcessError(Veo31Error):
    """A media process died while working on a file, twice: out of memory, or a file that crashes the decoder."""


class StorageError(Veo31Error):
    """The blob store could not be read or written: a full disk, an unreachable bucket, refused S3 keys."""

    answer_status = 503


class ProviderError(Veo31Error):
    """A provider refused or failed a call.

    `retryable` says whether the same call may succeed later without any change by the user.
    `task_may_exist` is set on submissions whose failure cannot prove that no task (and no charge) was made.
    """

    retryable: bool = False
    kind: str = "provider_error"
    answer_status = 502  # trouble at the provider on a synchronous path, named in the message (the provider's
    # own HTTP status, when it gave one, is `http_status`)

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
    answer_status = 502


class InsufficientCreditsError(ProviderError):
    kind = "insufficient_credits"
    answer_status = 402


class RateLimitedError(ProviderError):
    kind = "rate_limited"
    answer_status = 429
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
    answer_status = 404


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
