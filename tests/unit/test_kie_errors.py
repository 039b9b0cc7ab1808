"""map_kie_error, row by row: the body's code and Kie's message decide the typed error (spec §12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from veo31.errors import (
    AuthenticationError,
    ContentRejectedError,
    GenerationFailedError,
    InsufficientCreditsError,
    InvalidRequestError,
    ProviderError,
    RateLimitedError,
    ReferenceImageUnreachableError,
    TaskNotFoundError,
    TimedOutError,
    UnavailableError,
)
from veo31.providers.kie.errors import KIE_ERROR_TABLE, map_kie_error, map_kie_task_failure, render_markdown

ROWS: list[tuple[int, str, type[ProviderError], bool]] = [
    (400, "Bad request", InvalidRequestError, False),
    (401, "You do not have access permissions", AuthenticationError, False),
    (402, "The current credits are insufficient. Please top up.", InsufficientCreditsError, False),
    (403, "Forbidden", AuthenticationError, False),
    (404, "Not found", TaskNotFoundError, False),
    (405, "Method not allowed", InvalidRequestError, False),
    (408, "Upstream timeout", TimedOutError, True),
    (422, "Validation failed", InvalidRequestError, False),
    (429, "Your call frequency is too high.", RateLimitedError, True),
    (433, "Sub-key usage exceeds its limit", RateLimitedError, False),
    (451, "Failed to fetch the image from your URL", ReferenceImageUnreachableError, False),
    (455, "Service unavailable: maintenance", UnavailableError, True),
    (500, "Internal Error, Please try again later.", UnavailableError, True),
    (501, "Generation failed", GenerationFailedError, False),
    (505, "Feature disabled", UnavailableError, False),
]


@pytest.mark.parametrize(("code", "msg", "expected", "retryable"), ROWS)
def test_each_code_in_an_http_200_envelope(code: int, msg: str, expected: type, retryable: bool) -> None:
    error = map_kie_error(200, {"code": code, "msg": msg, "data": None})
    assert type(error) is expected
    assert error.code == code and error.provider == "kie"
    assert error.retryable is retryable
    assert msg in error.message


@pytest.mark.parametrize(("code", "msg", "expected", "retryable"), ROWS)
def test_each_code_as_a_real_http_status(code: int, msg: str, expected: type, retryable: bool) -> None:
    error = map_kie_error(code, {"code": code, "msg": msg})
    assert type(error) is expected and error.http_status == code


@pytest.mark.parametrize(
    ("code", "msg", "expected"),
    [
        (400, "Your prompt was flagged by Website as violating content policies.", ContentRejectedError),
        (400, "public error unsafe image upload", ContentRejectedError),
        (400, "Failed to fetch the image. Kindly verify any access limits set by you", ReferenceImageUnreachableError),
        (400, "Only English prompts are supported at this time", InvalidRequestError),
        (404, "The model veo4 is not supported", InvalidRequestError),
        (404, "The original task does not exist", TaskNotFoundError),
        (422, "record is null", TaskNotFoundError),
        (422, "Temporarily supports records within 14 days", TaskNotFoundError),
        (422, "record result data is blank", TaskNotFoundError),
        (422, "Your request was rejected by Flow(unsafe content). You may consider…", ContentRejectedError),
        (422, "The file has expired and been deleted", TaskNotFoundError),
        (500, "This field is required", InvalidRequestError),
        (500, "Internal Error - Timeout", UnavailableError),
        (501, "Your prompt was flagged by Website as violating content policies.", ContentRejectedError),
    ],
)
def test_messages_refine_the_class(code: int, msg: str, expected: type) -> None:
    assert type(map_kie_error(200, {"code": code, "msg": msg})) is expected


def test_rate_limit_carries_retry_after() -> None:
    error = map_kie_error(429, {"code": 429, "msg": "slow down"}, retry_after=3.0)
    assert isinstance(error, RateLimitedError) and error.retry_after == 3.0


def test_bodies_without_an_envelope() -> None:
    assert type(map_kie_error(503, "Service Unavailable")) is UnavailableError
    assert type(map_kie_error(401, None)) is AuthenticationError
    firewall = map_kie_error(403, "error code: 1010")
    assert isinstance(firewall, AuthenticationError) and "User-Agent" in firewall.message
    assert type(map_kie_error(599, {"code": "599"})) is UnavailableError
    assert type(map_kie_error(None, {"msg": "no code at all"})) is UnavailableError


@pytest.mark.parametrize(
    ("error_code", "message", "flag", "expected"),
    [
        (400, "Your prompt was flagged by Website as violating content policies.", 3, ContentRejectedError),
        (400, "Failed to fetch the image. Kindly verify…", 2, ReferenceImageUnreachableError),
        (400, "Only English prompts are supported at this time", 3, InvalidRequestError),
        (400, "something else", 3, ContentRejectedError),
        (501, "Video generation failed", 3, GenerationFailedError),
        (500, "Internal Error - Timeout", 3, GenerationFailedError),
        ("null", "null", 2, GenerationFailedError),
        (None, None, 3, GenerationFailedError),
    ],
)
def test_task_failures(error_code: object, message: object, flag: int, expected: type) -> None:
    error = map_kie_task_failure(error_code, message, flag)
    assert type(error) is expected
    assert "null" not in error.message.lower().replace("errorcode", "")


def test_generation_failure_keeps_kies_code_and_message() -> None:
    error = map_kie_task_failure("501", "Video generation failed", 3)
    assert isinstance(error, GenerationFailedError)
    assert (error.error_code, error.error_message) == (501, "Video generation failed")


def test_every_table_row_maps_to_its_class() -> None:
    for row in KIE_ERROR_TABLE:
        assert isinstance(map_kie_error(200, {"code": row.code, "msg": ""}), row.error)


def test_readme_carries_the_table_as_the_code_has_it() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert render_markdown() in readme, "README's Kie error table drifted: paste `python -m veo31.providers.kie.errors`"
