"""Google's operations and errors as data: every shape spec §5 and §10 allow, read the same way on both surfaces;
Google's HTTP refusals (spec §7) as the typed errors a person acts on; prices, routing and fallback rules."""

from __future__ import annotations

import base64

import pytest

from veo31.config import load_settings
from veo31.domain import GenerationSpec, ProviderState
from veo31.errors import (
    AuthenticationError,
    CapabilityError,
    ContentRejectedError,
    GenerationFailedError,
    InsufficientCreditsError,
    InvalidRequestError,
    ModelUnavailableError,
    RateLimitedError,
    SubmissionUncertainError,
    TaskNotFoundError,
    UnavailableError,
)
from veo31.providers.base import ImageInput, SubmitRequest
from veo31.providers.gemini.errors import map_google_http_error, map_operation_error
from veo31.providers.gemini.ops import INLINE, classify, plan, read_rest_operation, rest_body
from veo31.providers.registry import auto_order, estimate, moves_on, next_provider, route

NAME = "models/veo-3.1-fast-generate-preview/operations/abc123"


def test_a_running_operation_is_generating() -> None:
    for body in ({"name": NAME}, {"name": NAME, "done": False}, {"name": NAME, "metadata": {}}):
        assert classify(read_rest_operation(body)).state is ProviderState.GENERATING


def test_gemini_api_success_gives_the_file_uri() -> None:
    uri = "https://generativelanguage.googleapis.com/v1beta/files/xyz:download?alt=media"
    body = {
        "name": NAME,
        "done": True,
        "response": {"generateVideoResponse": {"generatedSamples": [{"video": {"uri": uri}}]}},
    }
    status = classify(read_rest_operation(body))
    assert status.state is ProviderState.SUCCEEDED and status.video_url == uri and status.task_id == NAME


def test_inline_bytes_on_either_surface() -> None:
    data = b"\x00\x00\x00\x18ftypmp42"
    encoded = base64.b64encode(data).decode()
    gemini = {
        "generateVideoResponse": {"generatedSamples": [{"video": {"encodedVideo": encoded, "encoding": "video/mp4"}}]}
    }
    vertex = {"videos": [{"bytesBase64Encoded": encoded, "mimeType": "video/mp4"}], "raiMediaFilteredCount": 0}
    for response in (gemini, vertex):
        operation = read_rest_operation({"name": NAME, "done": True, "response": response})
        assert operation.videos[0].data == data
        assert classify(operation).video_url == f"{INLINE}{NAME}"


def test_filtered_without_error_is_content_rejected_on_both_surfaces() -> None:
    reason = "We encountered an issue with the audio for your prompt. You have not been charged."
    gemini = {"generateVideoResponse": {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": [reason]}}
    vertex = {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": [reason]}
    for response in (gemini, vertex):
        status = classify(read_rest_operation({"name": NAME, "done": True, "response": response}))
        assert status.state is ProviderState.FAILED and isinstance(status.error, ContentRejectedError)
        assert reason in status.error.message
        assert (status.charged, status.retry_same) == (False, True)
    counted_only = classify(read_rest_operation({"name": NAME, "done": True, "response": {"raiMediaFilteredCount": 2}}))
    assert isinstance(counted_only.error, ContentRejectedError) and counted_only.retry_same is False


def test_done_with_nothing_is_an_unknown_failure_that_keeps_the_body() -> None:
    body = {"name": NAME, "done": True, "response": {}}
    status = classify(read_rest_operation(body))
    assert isinstance(status.error, GenerationFailedError) and status.raw == body


def test_junk_never_raises() -> None:
    for body in (
        None,
        [],
        "x",
        {"done": True, "response": "x"},
        {"done": True, "error": "x"},
        {"response": {"videos": [1]}},
    ):
        classify(read_rest_operation(body))


@pytest.mark.parametrize(
    "code,message,kind",
    [
        (3, "Invalid argument", InvalidRequestError),
        (13, "internal", GenerationFailedError),
        (5, "gone", TaskNotFoundError),
        (8, "quota", RateLimitedError),
        (16, "who", AuthenticationError),
        (3, "The prompt violates the safety policy", ContentRejectedError),
    ],
)
def test_operation_errors_by_rpc_code(code: int, message: str, kind: type) -> None:
    error = map_operation_error({"code": code, "message": message}, NAME)
    assert isinstance(error, kind) and message in error.message


def body(code: int, status: str, message: str) -> dict:
    return {"error": {"code": code, "status": status, "message": message}}


@pytest.mark.parametrize(
    "http,status,message,kind,retryable",
    [
        (400, "INVALID_ARGUMENT", "`inlineData` isn't supported by this model.", InvalidRequestError, False),
        (400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", AuthenticationError, False),
        (400, "FAILED_PRECONDITION", "User location is not supported", InvalidRequestError, False),
        (402, "", "prepaid balance depleted", InsufficientCreditsError, False),
        (403, "PERMISSION_DENIED", "API not enabled", AuthenticationError, False),
        (429, "RESOURCE_EXHAUSTED", "quota for requests per minute", RateLimitedError, True),
        (429, "RESOURCE_EXHAUSTED", "exceeded requests per day", RateLimitedError, False),
        (500, "INTERNAL", "oops", UnavailableError, True),
        (503, "UNAVAILABLE", "overloaded", UnavailableError, True),
    ],
)
def test_http_errors(http: int, status: str, message: str, kind: type, retryable: bool) -> None:
    error = map_google_http_error(http, body(http, status, message), action="start the video")
    assert isinstance(error, kind) and error.retryable is retryable and error.http_status == http


def test_404_is_a_retired_model_when_asking_for_a_model_and_a_lost_operation_otherwise() -> None:
    gone = body(404, "NOT_FOUND", "models/veo-3.1-generate-preview is no longer available")
    assert isinstance(map_google_http_error(404, gone, action="check the model", model="m"), ModelUnavailableError)
    assert isinstance(map_google_http_error(404, gone, action="read the operation"), ModelUnavailableError)
    lost = body(404, "NOT_FOUND", "Operation not found")
    assert isinstance(map_google_http_error(404, lost, action="read the operation"), TaskNotFoundError)


def request(mode: str, images: int, **fields: object) -> SubmitRequest:
    values: dict = {
        "prompt": "p",
        "mode": mode,
        "model_tier": "fast",
        "duration_seconds": 8,
        "aspect_ratio": "16:9",
        "resolution": "720p",
        "images": tuple(ImageInput(b"img", "image/png") for _ in range(images)),
        "seed": 7,
    }
    values.update(fields)
    return SubmitRequest(**values)


def test_the_body_follows_the_sdk_shape_and_mode_rules() -> None:
    first = rest_body(plan(request("first_last", 2, negative_prompt="text overlay"), "m", seed_allowed=False))
    instance, parameters = first["instances"][0], first["parameters"]
    assert instance["image"] == {"bytesBase64Encoded": base64.b64encode(b"img").decode(), "mimeType": "image/png"}
    assert "lastFrame" in instance and "referenceImages" not in instance
    assert parameters == {
        "aspectRatio": "16:9",
        "resolution": "720p",
        "durationSeconds": 8,
        "sampleCount": 1,
        "negativePrompt": "text overlay",
        "personGeneration": "allow_adult",
    }, "no seed on the Gemini API"
    refs = rest_body(plan(request("reference", 3), "m", seed_allowed=True))
    assert [r["referenceType"] for r in refs["instances"][0]["referenceImages"]] == ["asset"] * 3
    assert "image" not in refs["instances"][0] and refs["parameters"]["seed"] == 7
    text = rest_body(plan(request("text", 0), "m", seed_allowed=True))
    assert "personGeneration" not in text["parameters"], "text-to-video refuses allow_adult"
    with pytest.raises(CapabilityError):
        plan(request("reference", 1, duration_seconds=6), "m", seed_allowed=True)


def test_prices_from_settings() -> None:
    settings = load_settings()
    google = estimate("gemini", GenerationSpec(model_tier="fast", duration_seconds=8, resolution="720p"), settings)
    assert google.usd == pytest.approx(0.80)
    assert (
        estimate("gemini", GenerationSpec(model_tier="quality", duration_seconds=8, resolution="4k"), settings).usd
        == 4.8
    )
    kie = estimate("kie", GenerationSpec(model_tier="fast", duration_seconds=8, resolution="1080p"), settings)
    assert kie.usd == pytest.approx(173 * 0.005) and "173 Kie.ai credits" in kie.basis
    assert (
        estimate("local", GenerationSpec(model_tier="fast", duration_seconds=30, resolution="1080p"), settings).usd == 0
    )
    cheaper = load_settings(gemini_prices={"fast": {"720p": 0.05}})
    assert (
        estimate("gemini", GenerationSpec(model_tier="fast", duration_seconds=4, resolution="720p"), cheaper).usd == 0.2
    )


def test_routing_and_fallback_rules() -> None:
    settings = load_settings(kie_api_key="k", gemini_api_key="g", provider_order="gemini,kie,local", fallback=True)
    assert auto_order(settings) == ["gemini", "kie", "local"]
    assert route(GenerationSpec(), 1, settings).provider == "gemini"
    four = GenerationSpec(duration_seconds=4, mode="first_frame")
    kie_first = load_settings(kie_api_key="k", gemini_api_key="g", fallback=True)
    chosen = route(four, 1, kie_first)
    assert chosen.provider == "gemini" and "Kie.ai left" in chosen.notes[0]
    with pytest.raises(CapabilityError):
        route(four, 1, load_settings(kie_api_key="k", gemini_api_key="g"))  # without fallback, Kie's refusal stands
    with pytest.raises(CapabilityError):
        route(GenerationSpec(provider="kie", duration_seconds=4), 1, kie_first)  # a named provider is kept
    nxt = next_provider(GenerationSpec(), 1, "kie", kie_first)
    assert nxt is not None and nxt.provider == "gemini"
    assert moves_on(InsufficientCreditsError("no credits", provider="kie"))
    assert moves_on(ModelUnavailableError("retired", provider="gemini"))
    assert not moves_on(SubmissionUncertainError("sent, no answer", provider="kie"))
    assert not moves_on(UnavailableError("500", provider="kie", task_may_exist=True))
    assert not moves_on(RateLimitedError("per minute", provider="gemini"))
    assert moves_on(RateLimitedError("per day", provider="gemini", retryable=False))
    assert not moves_on(ContentRejectedError("unsafe", provider="gemini"))


def test_which_google_surface() -> None:
    assert load_settings().google_surface is None
    assert load_settings(gemini_api_key="g").google_surface == "gemini-api"
    assert (
        load_settings(google_genai_use_vertexai=True, google_api_key="k", gemini_api_key="g").google_surface == "vertex"
    )
    assert load_settings(google_genai_use_vertexai=True, google_cloud_project="p").google_surface == "vertex"
    assert load_settings(google_genai_use_vertexai=True).google_surface is None
