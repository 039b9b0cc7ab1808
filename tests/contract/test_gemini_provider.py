"""The Google provider against the Google emulator over real sockets, on both surfaces: Vertex AI through the
google-genai SDK (express mode, base URL pointed at the emulator) and the Gemini API over REST."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tests.conftest import png_bytes
from tests.contract.held_back import GOOGLE_ANSWER, HeldBackServer, note_marker
from tests.google import GOOGLE_KEY, Emulator, settings_for
from veo31.domain import ProviderState, ProviderStatus
from veo31.emulators.gemini import create_gemini_emulator
from veo31.emulators.serve import ServerThread
from veo31.errors import (
    AuthenticationError,
    CapabilityError,
    ContentRejectedError,
    GenerationFailedError,
    ModelUnavailableError,
    ProviderConnectionError,
    RateLimitedError,
    ResultExpiredError,
    SubmissionUncertainError,
    TaskNotFoundError,
)
from veo31.media.probe import probe_video
from veo31.providers._http import NO_RETRY, stream_to_file
from veo31.providers.base import ImageInput, SubmitRequest
from veo31.providers.gemini.provider import GeminiProvider


@pytest.fixture(scope="module")
def google_server() -> Iterator[Emulator]:
    app = create_gemini_emulator(api_keys=[GOOGLE_KEY], generation_seconds=0.3, clip_seconds=1.0, render_scale=0.25)
    with ServerThread(app) as server:
        yield Emulator(server.url)


@pytest.fixture
def google(google_server: Emulator) -> Emulator:
    google_server.reset()
    return google_server


@pytest.fixture(params=["vertex", "gemini-api"])
async def provider(request: pytest.FixtureRequest, google: Emulator) -> AsyncIterator[GeminiProvider]:
    made = GeminiProvider.from_settings(settings_for(request.param, google.url))
    yield made
    await made.aclose()


def request_for(mode: str, images: int, **fields: Any) -> SubmitRequest:
    photos = tuple(ImageInput(png_bytes(colour=(30 * i, 90, 200)), "image/png") for i in range(images))
    values: dict[str, Any] = {
        "prompt": "A ceramic mug turns slowly on a walnut desk",
        "mode": mode,
        "model_tier": "fast",
        "duration_seconds": 8,
        "aspect_ratio": "16:9",
        "resolution": "720p",
        "images": photos,
    }
    values.update(fields)
    return SubmitRequest(**values)


async def finished(provider: GeminiProvider, task_id: str, limit: float = 30) -> ProviderStatus:
    deadline = asyncio.get_running_loop().time() + limit
    while True:
        status = await provider.status(task_id)
        if status.state is not ProviderState.GENERATING:
            return status
        assert asyncio.get_running_loop().time() < deadline, "the operation never finished"
        await asyncio.sleep(0.1)


@pytest.mark.parametrize(
    "mode,images,keys,person",
    [
        ("first_frame", 1, ["image", "prompt"], "allow_adult"),
        ("first_last", 2, ["image", "lastFrame", "prompt"], "allow_adult"),
        ("reference", 3, ["prompt", "referenceImages"], "allow_adult"),
        ("text", 0, ["prompt"], None),
    ],
)
async def test_each_mode_makes_a_video_that_decodes(
    provider: GeminiProvider, google: Emulator, tmp_path: Path, mode: str, images: int, keys: list[str], person: Any
) -> None:
    task = await provider.submit(request_for(mode, images, aspect_ratio="9:16"))
    assert "/operations/" in task.task_id
    status = await finished(provider, task.task_id)
    assert status.state is ProviderState.SUCCEEDED, status.error
    target = tmp_path / "v.mp4"
    size = await provider.download(status.video_url or "", target, max_bytes=10**8)
    info = probe_video(target)
    assert size == target.stat().st_size and info.frames > 0
    assert info.height > info.width, "9:16 was asked for"
    sent = google.state()["operations"][0]
    assert sent["request"]["instance_keys"] == keys
    parameters = sent["request"]["parameters"]
    assert parameters["durationSeconds"] == 8 and isinstance(parameters["durationSeconds"], int)
    assert parameters.get("personGeneration") == person
    assert sent["images"] == images
    assert google.calls("key_in_query") == 0, "the key travels in a header, never in a URL"


async def test_a_new_process_polls_and_retrieves_by_operation_name_alone(
    provider: GeminiProvider, google: Emulator, tmp_path: Path
) -> None:
    task = await provider.submit(request_for("first_frame", 1))
    surface = "vertex" if provider.surface == "vertex" else "gemini-api"
    later = GeminiProvider.from_settings(settings_for(surface, google.url))  # nothing shared but the name
    try:
        status = await finished(later, task.task_id)
        assert status.state is ProviderState.SUCCEEDED
        await later.download(status.video_url or "", tmp_path / "v.mp4", max_bytes=10**8)
    finally:
        await later.aclose()
    assert probe_video(tmp_path / "v.mp4").frames > 0
    assert google.calls("predict") == 1


async def test_mode_rules_are_enforced_before_any_call(provider: GeminiProvider, google: Emulator) -> None:
    with pytest.raises(CapabilityError, match="8"):
        await provider.submit(request_for("reference", 2, duration_seconds=4))
    with pytest.raises(CapabilityError, match="8"):
        await provider.submit(request_for("first_frame", 1, duration_seconds=6, resolution="1080p"))
    with pytest.raises(CapabilityError, match="images"):
        await provider.submit(request_for("first_last", 1))
    assert google.calls("predict") == 0


async def test_safety_filter_is_content_rejected_with_googles_reason_and_not_charged(
    provider: GeminiProvider, google: Emulator
) -> None:
    google.fault("rai", msg="Your prompt may violate our guidelines. You have not been charged. Support codes: 42")
    status = await finished(provider, (await provider.submit(request_for("first_frame", 1))).task_id)
    assert status.state is ProviderState.FAILED
    assert isinstance(status.error, ContentRejectedError)
    assert "Support codes: 42" in status.error.message
    assert (status.charged, status.retry_same) == (False, False)


async def test_the_audio_filter_is_marked_worth_one_more_try(provider: GeminiProvider, google: Emulator) -> None:
    google.fault("rai_audio")
    status = await finished(provider, (await provider.submit(request_for("first_frame", 1))).task_id)
    assert isinstance(status.error, ContentRejectedError) and "audio" in status.error.message
    assert status.retry_same is True


async def test_an_error_operation_is_a_typed_failure(provider: GeminiProvider, google: Emulator) -> None:
    google.fault("op_error", code=13, msg="Video generation failed due to an internal error.")
    status = await finished(provider, (await provider.submit(request_for("first_frame", 1))).task_id)
    assert isinstance(status.error, GenerationFailedError)
    assert "INTERNAL" in status.error.message and "internal error" in status.error.message


async def test_per_minute_429_is_retried_and_a_daily_one_is_not(provider: GeminiProvider, google: Emulator) -> None:
    google.configure(retry_delay_seconds=0.2)
    google.fault("rate_limit", endpoint="predict", count=2)
    task = await provider.submit(request_for("first_frame", 1))
    assert task.task_id and google.calls("predict") == 3
    google.fault("quota", endpoint="predict")
    with pytest.raises(RateLimitedError, match="daily quota") as caught:
        await provider.submit(request_for("first_frame", 1))
    assert caught.value.retryable is False
    assert google.calls("predict") == 4


async def test_a_retired_model_is_named_by_check_and_refused_on_submit(
    provider: GeminiProvider, google: Emulator
) -> None:
    assert await provider.check() is None
    google.configure(retired_models=[provider.models["fast"]])
    problem = await provider.check()
    assert problem is not None and provider.models["fast"] in problem and "VEO31_GEMINI_MODEL" in problem
    with pytest.raises(ModelUnavailableError, match="VEO31_GEMINI_MODEL"):
        await provider.submit(request_for("first_frame", 1))


async def test_a_wrong_key_is_an_authentication_error(google: Emulator) -> None:
    for surface in ("vertex", "gemini-api"):
        wrong = GeminiProvider.from_settings(settings_for(surface, google.url, key="not-the-key"))
        try:
            with pytest.raises(AuthenticationError) as caught:
                await wrong.submit(request_for("first_frame", 1))
            assert "not-the-key" not in str(caught.value)
        finally:
            await wrong.aclose()


async def test_an_unknown_operation_is_task_not_found(provider: GeminiProvider) -> None:
    with pytest.raises(TaskNotFoundError):
        await provider.status(f"models/{provider.models['fast']}/operations/doesnotexist")
    with pytest.raises(TaskNotFoundError):
        await provider.status("not an operation")


async def test_a_dropped_answer_to_a_submission_is_uncertain_never_resent(
    provider: GeminiProvider, google: Emulator
) -> None:
    google.fault("drop", endpoint="predict")
    with pytest.raises(SubmissionUncertainError):
        await provider.submit(request_for("first_frame", 1))
    assert google.calls("predict") == 1


async def test_an_expired_gemini_file_is_result_expired(google: Emulator, tmp_path: Path) -> None:
    google.configure(file_ttl_seconds=0)
    api = GeminiProvider.from_settings(settings_for("gemini-api", google.url))
    try:
        status = await finished(api, (await api.submit(request_for("first_frame", 1))).task_id)
        with pytest.raises(ResultExpiredError):
            await api.download(status.video_url or "", tmp_path / "v.mp4", max_bytes=10**8)
    finally:
        await api.aclose()


def test_the_emulator_refuses_what_google_refuses(google: Emulator) -> None:
    url = f"{google.url}/v1beta/models/veo-3.1-fast-generate-preview:predictLongRunning"
    headers = {"x-goog-api-key": GOOGLE_KEY}
    inline = {"instances": [{"prompt": "p", "image": {"inlineData": {"mimeType": "image/png", "data": "AA=="}}}]}
    cases = [
        (inline, "inlineData"),
        ({"instances": [{"prompt": "p"}], "parameters": {"durationSeconds": "8"}}, "expected a number"),
        ({"instances": [{"prompt": "p"}], "parameters": {"personGeneration": "allow_adult"}}, "allow_adult"),
        ({"instances": [{"prompt": "p"}], "parameters": {"resolution": "1080p", "durationSeconds": 4}}, "8"),
    ]
    for body, words in cases:
        answer = httpx.post(url, json=body, headers=headers)
        assert answer.status_code == 400 and words in answer.json()["error"]["message"], answer.text
    assert httpx.post(url, json=cases[1][0]).status_code == 403, "no key"
    gone = httpx.post(url.replace("veo-3.1-fast-generate-preview", "veo-9"), json=cases[1][0], headers=headers)
    assert gone.status_code == 404 and gone.json()["error"]["status"] == "NOT_FOUND"


async def test_the_key_never_follows_a_redirect_to_another_host(tmp_path: Path) -> None:
    """A download link on the API host that redirects to a storage host: the key goes to the first only."""
    seen: list[dict[str, str]] = []

    async def storage(request: Request) -> Response:
        seen.append(dict(request.headers))
        return Response(b"video bytes", media_type="video/mp4")

    with ServerThread(Starlette(routes=[Route("/blob", storage)])) as store:

        async def api(request: Request) -> Response:
            seen.append(dict(request.headers))
            return RedirectResponse(f"{store.url}/blob", status_code=302)

        with ServerThread(Starlette(routes=[Route("/v1beta/files/x:download", api)])) as host:
            await stream_to_file(
                httpx.Timeout(10.0),
                f"{host.url}/v1beta/files/x:download?alt=media",
                tmp_path / "v.mp4",
                provider="gemini",
                label="Google",
                max_bytes=1000,
                headers={"x-goog-api-key": GOOGLE_KEY},
                headers_origin=host.url,
            )
    assert (tmp_path / "v.mp4").read_bytes() == b"video bytes"
    assert seen[0].get("x-goog-api-key") == GOOGLE_KEY
    assert "x-goog-api-key" not in seen[1]


async def test_the_marker_is_written_while_google_lacks_the_requests_last_byte() -> None:
    """As with Kie: on the Gemini API the paid request is whole only after the "maybe sent" marker, so a crash
    before the marker leaves no operation and only the instant after it is uncertain."""
    server = HeldBackServer(GOOGLE_ANSWER)
    api = GeminiProvider.from_settings(settings_for("gemini-api", server.url))
    api.policy = NO_RETRY
    try:
        task = await api.submit(dataclasses.replace(request_for("first_frame", 1), before_send=server.marker))
    finally:
        await api.aclose()
        server.close()
    assert task.task_id.endswith("/operations/op-whole")
    ((received, length),) = server.at_marker
    assert length is not None and received == length - 1, "all but the last byte had arrived at the marker"
    assert server.received == length and server.requests == 1


async def test_a_google_request_cut_off_before_its_last_byte_is_safe_to_send_again() -> None:
    server = HeldBackServer(GOOGLE_ANSWER, hang_up_after=64 * 1024)
    markers: list[bool] = []
    big = request_for("first_frame", 1, prompt="A ceramic mug on a walnut desk. " * 1_000_000)  # 32 MB
    api = GeminiProvider.from_settings(settings_for("gemini-api", server.url))
    api.policy = NO_RETRY
    try:
        with pytest.raises(ProviderConnectionError) as caught:
            await api.submit(dataclasses.replace(big, before_send=note_marker(markers)))
    finally:
        await api.aclose()
        server.close()
    assert not caught.value.task_may_exist and "safe to try again" in caught.value.message
    assert markers == [] and server.requests == 0
