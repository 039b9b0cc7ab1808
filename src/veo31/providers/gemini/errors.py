"""Google's refusals as our typed errors — one function for the HTTP layer (spec §7), one for a finished
operation's `error` (spec §5), shared by both surfaces (the Gemini API over REST, Vertex AI through the SDK).

Google's HTTP body is `{"error": {"code": 400, "message": "…", "status": "INVALID_ARGUMENT"}}`; an operation's
error is `{"code": 3, "message": "…"}` with a numeric `google.rpc.Code`. Messages are Google's own words, kept
so a person sees the reason; keys never appear in them (they travel in a header, never in a URL).
"""

from __future__ import annotations

from typing import Any

from veo31.errors import (
    AuthenticationError,
    ContentRejectedError,
    GenerationFailedError,
    InsufficientCreditsError,
    InvalidRequestError,
    ModelUnavailableError,
    ProviderError,
    RateLimitedError,
    TaskNotFoundError,
    TimedOutError,
    UnavailableError,
)

PROVIDER = "gemini"
LABEL = "Google"

# google.rpc.Code numbers an operation's error carries.
RPC_CODES = {
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    16: "UNAUTHENTICATED",
}
_SAFETY_WORDS = ("safety", "responsible ai", "rai ", "policy", "prohibited", "sensitive", "celebrity", "minor")
# A 429 that waiting a minute will not cure: the day's quota or a spend cap.
_LASTING_QUOTA_WORDS = ("per day", "perday", "daily", "spend", "billing", "prepay", "balance", "credits")
_RETIRED_WORDS = ("no longer available", "is not found for api version", "not supported for predictlongrunning")


def error_fields(body: Any) -> tuple[int | None, str, str]:
    """(code, status, message) of a Google error body, however much of it is there."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, "", ""
    code = error.get("code")
    return (
        code if isinstance(code, int) else None,
        str(error.get("status") or ""),
        str(error.get("message") or "")[:500],
    )


def map_google_http_error(
    http_status: int, body: Any, *, action: str, model: str | None = None, retry_after: float | None = None
) -> ProviderError:
    """A non-2xx answer from either surface as the error a person can act on."""
    _, status, message = error_fields(body)
    said = f"{LABEL} refused to {action}: {message or status or f'HTTP {http_status}'}"
    lowered = message.lower()
    kwargs: dict[str, Any] = {"provider": PROVIDER, "code": http_status, "http_status": http_status}
    if http_status == 400 and ("api_key_invalid" in lowered or "api key not valid" in lowered):
        return AuthenticationError(f"{said} — check the Google API key setting", **kwargs)
    if http_status == 400 and status == "FAILED_PRECONDITION":
        return InvalidRequestError(f"{said} — enable billing for the project, or use a supported region", **kwargs)
    if http_status in (400, 422):
        if any(word in lowered for word in _SAFETY_WORDS):
            return ContentRejectedError(said, **kwargs)
        return InvalidRequestError(said, **kwargs)
    if http_status == 401 or status == "UNAUTHENTICATED":
        return AuthenticationError(f"{said} — check the Google credentials", **kwargs)
    if http_status == 402:
        return InsufficientCreditsError(f"{said} — top up the prepaid balance", **kwargs)
    if http_status == 403:
        return AuthenticationError(f"{said} — the key lacks access, or the API is not enabled", **kwargs)
    if http_status == 404:
        if action.startswith(("check the model", "start")) or any(word in lowered for word in _RETIRED_WORDS):
            return ModelUnavailableError(
                f"{LABEL} does not serve the model {model or '?'} ({message or 'not found'}); "
                "set VEO31_GEMINI_MODEL to a model it serves",
                **kwargs,
            )
        return TaskNotFoundError(f"{said} — the operation or file is gone (Google keeps videos 2 days)", **kwargs)
    if http_status == 429:
        if any(word in lowered for word in _LASTING_QUOTA_WORDS):
            return RateLimitedError(
                f"{said} — the daily quota or spend cap is used up; it resets later", retryable=False, **kwargs
            )
        return RateLimitedError(said, retry_after=retry_after, **kwargs)
    if http_status == 504:
        return TimedOutError(said, **kwargs)
    if http_status >= 500:
        return UnavailableError(said, **kwargs)
    return InvalidRequestError(said, **kwargs)


def map_operation_error(error: dict[str, Any], operation: str) -> ProviderError:
    """A finished operation's `error` (the task ran and failed) as a typed failure with Google's reason."""
    code = error.get("code") if isinstance(error.get("code"), int) else None
    status = RPC_CODES.get(code or 0, "UNKNOWN")
    message = str(error.get("message") or "no reason given")[:500]
    said = f"{LABEL}'s generation failed ({status}): {message}"
    kwargs: dict[str, Any] = {"provider": PROVIDER, "code": code}
    lowered = message.lower()
    if any(word in lowered for word in _SAFETY_WORDS):
        return ContentRejectedError(said, **kwargs)
    if code == 3 or code == 9:
        return InvalidRequestError(said, **kwargs)
    if code == 4:
        return TimedOutError(said, **kwargs)
    if code == 5:
        return TaskNotFoundError(said, **kwargs)
    if code in (7, 16):
        return AuthenticationError(said, **kwargs)
    if code == 8:
        return RateLimitedError(said, retryable=False, **kwargs)
    return GenerationFailedError(f"{said} (operation {operation})", error_code=code, error_message=message, **kwargs)
