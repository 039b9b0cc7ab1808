"""Kie.ai's verdicts as typed errors: one table, one function (`map_kie_error`).

Kie puts its real verdict in the envelope's `code`, often under HTTP 200, and sometimes in a real HTTP status
(spec §2, §12). Both are read; the body's code wins when there is one. A few codes mean different things by
their message (a 422 "record is null" is an unknown task, a 400 "Failed to fetch the image" an unreachable
reference), so the message refines the class. `render_markdown()` prints the table that README.md carries;
a test keeps the two equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from veo31.errors import (
    AuthenticationError,
    ContentRejectedError,
    GenerationFailedError,
    InsufficientCreditsError,
    InvalidRequestError,
    ProviderConnectionError,
    ProviderError,
    RateLimitedError,
    ReferenceImageUnreachableError,
    SubmissionUncertainError,
    TaskNotFoundError,
    TimedOutError,
    UnavailableError,
)

PROVIDER = "kie"
LABEL = "Kie.ai"
LOGS = "your Kie.ai logs at https://kie.ai/logs"


@dataclass(frozen=True)
class KieErrorRow:
    code: int
    error: type[ProviderError]
    retry: str
    meaning: str
    advice: str


KIE_ERROR_TABLE: tuple[KieErrorRow, ...] = (
    KieErrorRow(
        400,
        InvalidRequestError,
        "no",
        "bad request; refined by message (see below)",
        "Fix the request as Kie.ai's message says.",
    ),
    KieErrorRow(
        401, AuthenticationError, "no", "missing or invalid credentials", "Check KIE_API_KEY (https://kie.ai/api-key)."
    ),
    KieErrorRow(
        402,
        InsufficientCreditsError,
        "no",
        "insufficient credits",
        "Top up the Kie.ai account, or choose another provider.",
    ),
    KieErrorRow(
        403,
        AuthenticationError,
        "no",
        "key not allowed (IP allow-list, key caps)",
        "Check the key's IP allow-list and usage caps at https://kie.ai/api-key.",
    ),
    KieErrorRow(
        404,
        TaskNotFoundError,
        "no",
        "task or resource not found; unknown model → invalid request",
        "Check the task id (Kie keeps records 14 days) or the model name.",
    ),
    KieErrorRow(405, InvalidRequestError, "no", "method not allowed", "This is a veo31 bug; please report it."),
    KieErrorRow(
        408, TimedOutError, "new task", "upstream produced nothing for over 10 minutes", "Submit the generation again."
    ),
    KieErrorRow(
        422,
        InvalidRequestError,
        "no",
        "validation error; refined by message (see below)",
        "Fix the request as Kie.ai's message says.",
    ),
    KieErrorRow(
        429,
        RateLimitedError,
        "yes, after Retry-After",
        "rate limited — rejected, not queued",
        "Wait and retry; Kie allows 20 new generations per 10 s.",
    ),
    KieErrorRow(
        433,
        RateLimitedError,
        "no",
        "the key's usage cap is exceeded",
        "Raise the key's cap at https://kie.ai/api-key or use another key.",
    ),
    KieErrorRow(
        451,
        ReferenceImageUnreachableError,
        "no",
        "could not fetch a reference image",
        "Make the image URL public, or upload the file instead.",
    ),
    KieErrorRow(455, UnavailableError, "yes, later", "service under maintenance", "Wait and retry later."),
    KieErrorRow(
        500,
        UnavailableError,
        "yes, bounded (reads only)",
        "server error or timeout",
        "Retry later; if it persists, check https://kie.ai/logs.",
    ),
    KieErrorRow(501, GenerationFailedError, "new task", "generation failed", "Submit the generation again."),
    KieErrorRow(505, UnavailableError, "no", "feature disabled", "Choose another model or provider."),
)

_BY_CODE = {row.code: row for row in KIE_ERROR_TABLE}

# (words in Kie's message, class) — checked in order, for codes whose meaning depends on the message.
MESSAGE_RULES: tuple[tuple[tuple[str, ...], type[ProviderError]], ...] = (
    (("fetch the image", "failed to fetch", "image url"), ReferenceImageUnreachableError),
    (
        (
            "record is null",
            "recordinfo is null",
            "records within 14 days",
            "record result data",
            "not exist",
            "has expired",
            "been deleted",
        ),
        TaskNotFoundError,
    ),
    (
        ("flagged", "content polic", "unsafe image", "violat", "rejected by flow", "sensitive", "prohibited"),
        ContentRejectedError,
    ),
    (
        ("this field is required", "english", "model", "invalid", "must be", "required", "not supported"),
        InvalidRequestError,
    ),
)

# Codes whose class the message may change, and to which classes.
_REFINABLE = {
    400: (ReferenceImageUnreachableError, ContentRejectedError, InvalidRequestError),
    404: (InvalidRequestError,),
    422: (TaskNotFoundError, ContentRejectedError, ReferenceImageUnreachableError, InvalidRequestError),
    500: (InvalidRequestError,),
    501: (ContentRejectedError, ReferenceImageUnreachableError),
}


def classify_message(message: str, allowed: tuple[type[ProviderError], ...]) -> type[ProviderError] | None:
    """The first class among `allowed` whose words appear in Kie's message."""
    lowered = message.lower()
    for words, error in MESSAGE_RULES:
        if error in allowed and any(word in lowered for word in words):
            return error
    return None


def envelope_code(body: Any) -> int | None:
    """The envelope's `code` as an int, whatever type Kie sent it as."""
    if isinstance(body, Mapping):
        return as_int(body.get("code"))
    return None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def map_kie_error(http_status: int | None, body: Any, *, retry_after: float | None = None) -> ProviderError:
    """The typed error for a Kie answer that is not a success, from its HTTP status and its body."""
    code = envelope_code(body)
    message = ""
    if isinstance(body, Mapping):
        message = str(body.get("msg") or body.get("message") or "")
    elif isinstance(body, str):
        message = body.strip()[:300]
    if code is None or code == 200:
        code = http_status
    if code is None:
        return UnavailableError("Kie.ai answered without a verdict", provider=PROVIDER, http_status=http_status)
    if isinstance(body, str) and "1010" in body and code == 403:
        return AuthenticationError(
            "Kie.ai's firewall refused the request (Cloudflare error 1010, not a key problem); "
            "check that the request carries a normal User-Agent",
            provider=PROVIDER,
            code=code,
            http_status=http_status,
        )
    row = _BY_CODE.get(code)
    error_class = row.error if row else (UnavailableError if code >= 500 else InvalidRequestError)
    error_class = classify_message(message, _REFINABLE.get(code, ())) or error_class
    advice = row.advice if row and error_class is row.error else _ADVICE.get(error_class, "")
    text = f"Kie.ai says: {message or (row.meaning if row else 'error')} (code {code})"
    if advice:
        text = f"{text}. {advice}"
    kwargs: dict[str, Any] = {"provider": PROVIDER, "code": code, "http_status": http_status}
    if error_class is RateLimitedError:
        error = RateLimitedError(text, retry_after=retry_after, **kwargs)
        if code == 433:
            error.retryable = False
        return error
    if error_class is GenerationFailedError:
        return GenerationFailedError(text, error_code=code, error_message=message or None, **kwargs)
    error = error_class(text, **kwargs)
    if code == 505:
        error.retryable = False
    return error


_ADVICE: dict[type[ProviderError], str] = {
    TaskNotFoundError: "Check the task id; Kie.ai keeps records for 14 days",
    ContentRejectedError: "Change the prompt or the images and submit again",
    ReferenceImageUnreachableError: "Make the image URL public, or upload the file instead",
    InvalidRequestError: "Fix the request as the message says",
}


def map_kie_task_failure(error_code: Any, error_message: Any, success_flag: int | None) -> ProviderError:
    """Why a task that Kie accepted ended failed (`successFlag` 2 or 3), from its errorCode and errorMessage."""
    code = as_int(error_code)
    message = error_message.strip() if isinstance(error_message, str) else ""
    if message.lower() in ("null", "none"):
        message = ""
    allowed = (ReferenceImageUnreachableError, ContentRejectedError, InvalidRequestError)
    error_class = classify_message(message, allowed) if code in (None, 400, 422, 501) else None
    if error_class is None and code == 400:
        error_class = ContentRejectedError
    stage = "before it started" if success_flag == 2 else "while generating"
    text = f"Kie.ai failed the task {stage}: {message or 'no reason given'}"
    if code is not None:
        text += f" (errorCode {code})"
    advice = _ADVICE.get(error_class) if error_class else "Submit the generation again"
    text = f"{text}. {advice}"
    if error_class is None:
        error = GenerationFailedError(
            text, provider=PROVIDER, code=code, error_code=code, error_message=message or None
        )
        error.retryable = code in (500, None)
        return error
    return error_class(text, provider=PROVIDER, code=code)


def render_markdown() -> str:
    """The table as README.md shows it."""
    lines = [
        "| Kie `code` | veo31 error | retried | meaning | what to do |",
        "|---|---|---|---|---|",
    ]
    for row in KIE_ERROR_TABLE:
        lines.append(f"| {row.code} | `{row.error.__name__}` | {row.retry} | {row.meaning} | {row.advice} |")
    lines.append("")
    lines.append("Refined by Kie's message (codes 400, 404, 422, 500, 501):")
    lines.append("")
    for words, error in MESSAGE_RULES:
        quoted = ", ".join(f'"{word}"' for word in words)
        lines.append(f"- {quoted} → `{error.__name__}`")
    return "\n".join(lines)


def http_error(status: int, body: Any, retry_after: float | None) -> ProviderError:
    if status == 404:
        return InvalidRequestError(
            "Kie.ai has no such endpoint (HTTP 404); check KIE_BASE_URL and KIE_UPLOAD_BASE_URL",
            provider=PROVIDER,
            http_status=status,
        )
    return map_kie_error(status, body, retry_after=retry_after if status == 429 else None)


def garbled(*, paid: bool, action: str) -> ProviderError:
    if paid:
        return SubmissionUncertainError(
            f"Kie.ai answered the request to {action} with something unreadable, so a task may have been "
            "created and charged. Check your Kie.ai logs at https://kie.ai/logs before submitting again",
            provider=PROVIDER,
        )
    return ProviderConnectionError(
        f"Kie.ai answered the request to {action} with something unreadable; it is safe to try again", provider=PROVIDER
    )


if __name__ == "__main__":
    print(render_markdown())
