"""One provider contract, one suite: the same tests over kie ⇄ Kie emulator, gemini-vertex ⇄ Google emulator,
gemini-api ⇄ Google emulator, the local renderer, and the test-only slideshow declared as a plugin in one file
(tests/slideshow_provider.py). What the pipeline relies on must hold for each."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import av
import pytest

from tests.conftest import KIE_TEST_KEY, KieEmulatorHandle, png_bytes
from tests.contract.held_back import note_marker
from tests.google import GOOGLE_KEY, Emulator, settings_for
from tests.slideshow_provider import PLUGIN
from veo31.config import load_settings
from veo31.domain import GenerationSpec, ProviderState, ProviderStatus, ProviderTask, check_capabilities
from veo31.emulators.gemini import create_gemini_emulator
from veo31.emulators.serve import ServerThread
from veo31.errors import TaskNotFoundError
from veo31.media.probe import probe_video
from veo31.providers.base import CallsBack, ChecksItself, ImageInput, Provider, SubmitRequest
from veo31.providers.registry import entry

UNKNOWN_TASKS = {
    "kie": "0123456789abcdef0123456789abcdef",
    "gemini": "models/veo-3.1-fast-generate-001/operations/nosuchoperation",
    "local": "local_000000000000000000000000",
    "slideshow": "slides_0000000000000000",
}


@pytest.fixture(scope="module")
def google_emulator() -> Iterator[Emulator]:
    app = create_gemini_emulator(api_keys=[GOOGLE_KEY], generation_seconds=0.2, clip_seconds=1.0)
    with ServerThread(app) as server:
        yield Emulator(server.url)


@pytest.fixture(params=["kie", "gemini-vertex", "gemini-api", "local", "slideshow"])
async def provider(
    request: pytest.FixtureRequest, kie: KieEmulatorHandle, google_emulator: Emulator, tmp_path: Path
) -> AsyncIterator[Provider]:
    google_emulator.reset()
    if request.param == "kie":
        settings = load_settings(kie_api_key=KIE_TEST_KEY, kie_base_url=kie.url, kie_upload_base_url=kie.url)
        name = "kie"
    elif request.param == "local":
        settings = load_settings(data_dir=tmp_path)
        name = "local"
    elif request.param == "slideshow":
        settings = load_settings(data_dir=tmp_path, provider_plugins=PLUGIN)
        name = "slideshow"
    else:
        settings = settings_for(request.param.removeprefix("gemini-"), google_emulator.url)
        name = "gemini"
    made = entry(name, settings).factory(settings)
    yield made
    await made.aclose()


def photo_request(provider: Provider) -> SubmitRequest:
    spec = GenerationSpec(duration_seconds=8, mode="first_frame")
    mode = check_capabilities(spec, 1, provider.capabilities, provider.label)
    return SubmitRequest(
        prompt="A ceramic mug on a walnut desk, slow push-in, warm light",
        mode=mode,
        model_tier="fast",
        duration_seconds=8,
        aspect_ratio="16:9",
        resolution="720p",
        images=(ImageInput(png_bytes(), "image/png"),),
        product_name="Mug",
    )


async def until_done(provider: Provider, task: ProviderTask, limit: float = 90) -> ProviderStatus:
    deadline = asyncio.get_running_loop().time() + limit
    while True:
        status = await provider.status(task.task_id)
        if status.state is not ProviderState.GENERATING:
            return status
        assert asyncio.get_running_loop().time() < deadline, f"{provider.name} never finished"
        await asyncio.sleep(0.1)


async def test_declares_what_it_can_make(provider: Provider) -> None:
    caps = provider.capabilities
    assert "16:9" in caps.aspect_ratios and "720p" in caps.resolutions and 8 in caps.durations
    assert caps.images.get("first_frame") == (1, 1)
    assert isinstance(provider, Provider) and provider.label
    assert not isinstance(provider, ChecksItself) or await provider.check() is None


async def test_one_photo_becomes_a_video_that_decodes(provider: Provider, tmp_path: Path) -> None:
    sent: list[bool] = []
    request = photo_request(provider)
    request = SubmitRequest(**{**request.__dict__, "before_send": note_marker(sent)})
    task = await provider.submit(request)
    assert task.provider == provider.name and task.task_id
    assert sent == [True], "the maybe-sent marker is written once, before the paid request"
    status = await until_done(provider, task)
    assert status.state is ProviderState.SUCCEEDED, status.error
    assert status.video_url
    target = tmp_path / "video.mp4"
    size = await provider.download(status.video_url, target, max_bytes=10**9)
    info = probe_video(target)
    assert size == target.stat().st_size > 0
    assert info.frames > 0 and info.width > info.height, "a 16:9 video"


async def test_two_photos_in_order_the_first_opens_the_video(provider: Provider, tmp_path: Path) -> None:
    """First and last frame: the video must open on the first photo, so two photos must stay two, in order."""
    first, last = png_bytes(colour=(220, 30, 30)), png_bytes(colour=(30, 30, 220))
    request = SubmitRequest(
        prompt="From the red box to the blue box",
        mode="first_last",
        model_tier="fast",
        duration_seconds=8,
        aspect_ratio="16:9",
        resolution="720p",
        images=(ImageInput(first, "image/png"), ImageInput(last, "image/png")),
    )
    status = await until_done(provider, await provider.submit(request))
    assert status.state is ProviderState.SUCCEEDED, status.error
    target = tmp_path / "video.mp4"
    await provider.download(status.video_url or "", target, max_bytes=10**9)
    with av.open(str(target)) as container:
        opening = next(container.decode(video=0)).to_ndarray(format="rgb24").astype(int)
    red, blue = opening[..., 0].mean(), opening[..., 2].mean()
    assert red > blue + 20, f"the first frame should show the red (first) photo: red {red:.0f}, blue {blue:.0f}"


async def test_an_unknown_task_is_task_not_found(provider: Provider) -> None:
    with pytest.raises(TaskNotFoundError):
        await provider.status(UNKNOWN_TASKS[provider.name])


async def test_a_callback_is_only_a_hint(provider: Provider) -> None:
    assert isinstance(provider, CallsBack) == provider.capabilities.callbacks, "callbacks declared as offered"
    if isinstance(provider, CallsBack):
        hint = provider.parse_callback({"code": 200, "data": {"taskId": "x", "info": {}}})
        assert isinstance(hint, ProviderStatus)
