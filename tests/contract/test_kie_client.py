"""The Kie.ai client against the Kie emulator over real HTTP: every endpoint, every typed error, every fault."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import KIE_TEST_KEY, CallbackReceiver, KieEmulatorHandle, png_bytes
from tests.contract.held_back import KIE_ANSWER, HeldBackServer, KeepAliveServer, note_marker
from veo31.domain import ProviderState, ProviderStatus
from veo31.errors import (
    AuthenticationError,
    ConfigurationError,
    ContentRejectedError,
    GenerationFailedError,
    InsufficientCreditsError,
    InvalidRequestError,
    ProviderConnectionError,
    RateLimitedError,
    ReferenceImageUnreachableError,
    SubmissionUncertainError,
    TaskNotFoundError,
    TimedOutError,
    UnavailableError,
)
from veo31.media.probe import probe_video
from veo31.providers._http import KEEPALIVE_SECONDS, NO_RETRY, RetryPolicy
from veo31.providers.kie.client import KieClient


class SleepLog:
    """Stands in for asyncio.sleep inside the client's retry loop: records each wait, waits almost nothing."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def sleeps() -> SleepLog:
    return SleepLog()


@pytest.fixture
async def client(kie: KieEmulatorHandle, sleeps: SleepLog) -> AsyncIterator[KieClient]:
    async with KieClient(KIE_TEST_KEY, base_url=kie.url, upload_base_url=kie.url, sleep=sleeps, timeout=10) as c:
        yield c


async def wait_until_done(client: KieClient, task_id: str) -> ProviderStatus:
    async with asyncio.timeout(20):
        while True:
            status = await client.record_info(task_id)
            if status.state is not ProviderState.GENERATING:
                return status
            await asyncio.sleep(0.05)


async def fetch(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.get(url)


async def uploaded_image(client: KieClient, **size: int) -> str:
    return (await client.upload_file(png_bytes(**size), file_name=f"product-{time.monotonic_ns()}.png")).download_url


# -- endpoints ------------------------------------------------------------------------------------------------


async def test_text_to_video_end_to_end(client: KieClient, kie: KieEmulatorHandle, tmp_path) -> None:
    task = await client.generate("Slow orbit around a matte-black espresso machine", model="veo3_fast")
    assert task.provider == "kie" and task.task_id
    first = await client.record_info(task.task_id)
    assert first.state is ProviderState.GENERATING
    status = await wait_until_done(client, task.task_id)
    assert status.state is ProviderState.SUCCEEDED and status.resolution == "720p"
    response = await fetch(status.video_url or "")
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    (tmp_path / "result.mp4").write_bytes(response.content)
    info = probe_video(tmp_path / "result.mp4")
    assert (info.width, info.height, info.codec, info.has_audio) == (1280, 720, "h264", True)
    sent = kie.task(task.task_id)["params"]
    assert sent == {
        "prompt": "Slow orbit around a matte-black espresso machine",
        "model": "veo3_fast",
        "generationType": "TEXT_2_VIDEO",
        "aspect_ratio": "16:9",
        "enableTranslation": True,
    }


async def test_reference_images_vertical_with_every_option(
    client: KieClient, kie: KieEmulatorHandle, callbacks: CallbackReceiver, tmp_path
) -> None:
    urls = [await uploaded_image(client) for _ in range(3)]
    task = await client.generate(
        "The bottle rotates on a turntable",
        model="veo3_lite",
        image_urls=urls,
        generation_type="REFERENCE_2_VIDEO",
        aspect_ratio="9:16",
        resolution="1080p",
        seeds=12345,
        watermark="ACME",
        enable_translation=False,
        callback_url=f"{callbacks.url}/cb/one",
    )
    sent = kie.task(task.task_id)["params"]
    assert sent["imageUrls"] == urls and sent["generationType"] == "REFERENCE_2_VIDEO"
    assert (sent["aspect_ratio"], sent["resolution"], sent["seeds"], sent["watermark"]) == (
        "9:16",
        "1080p",
        12345,
        "ACME",
    )
    assert sent["enableTranslation"] is False
    assert kie.task(task.task_id)["callBackUrl"] == f"{callbacks.url}/cb/one"
    status = await wait_until_done(client, task.task_id)
    assert status.origin_urls, "non-16:9 results carry originUrls"
    (tmp_path / "v.mp4").write_bytes((await fetch(status.video_url or "")).content)
    assert (probe_video(tmp_path / "v.mp4").width, probe_video(tmp_path / "v.mp4").height) == (1080, 1920)


@pytest.mark.parametrize("count", [1, 2])
async def test_first_and_last_frames(client: KieClient, kie: KieEmulatorHandle, count: int) -> None:
    urls = [await uploaded_image(client) for _ in range(count)]
    task = await client.generate("The lid opens", image_urls=urls, generation_type="FIRST_AND_LAST_FRAMES_2_VIDEO")
    assert kie.task(task.task_id)["params"]["generationType"] == "FIRST_AND_LAST_FRAMES_2_VIDEO"
    assert (await wait_until_done(client, task.task_id)).state is ProviderState.SUCCEEDED


async def test_auto_aspect_follows_a_tall_image(client: KieClient, kie: KieEmulatorHandle) -> None:
    url = await uploaded_image(client, width=400, height=800)
    task = await client.generate("Hero shot", image_urls=[url], aspect_ratio="Auto")
    assert kie.task(task.task_id)["height"] > kie.task(task.task_id)["width"]


async def test_every_call_names_veo31_as_user_agent(client: KieClient, kie: KieEmulatorHandle) -> None:
    await client.credits()
    await client.upload_file(png_bytes())
    agents = kie.state()["user_agents"]
    assert list(agents) == [f"veo31/0.1.0 httpx/{httpx.__version__}"] and sum(agents.values()) == 2


async def test_callback_in_the_documented_shape(client: KieClient, callbacks: CallbackReceiver) -> None:
    task = await client.generate("Spin", callback_url=f"{callbacks.url}/cb")
    [delivery] = callbacks.wait_for(1)
    assert delivery["body"]["code"] == 200
    assert delivery["body"]["data"]["taskId"] == task.task_id
    hint = KieClient.parse_callback(delivery["body"])
    confirmed = await client.record_info(task.task_id)
    assert hint.state is confirmed.state is ProviderState.SUCCEEDED
    assert hint.video_url == confirmed.video_url


async def test_credits_go_down_per_generation(client: KieClient) -> None:
    before = await client.credits()
    await client.generate("One", model="veo3_fast")
    await client.generate("Two", model="veo3")
    assert before - await client.credits() == pytest.approx(168 + 250)


async def test_1080p_upgrade_is_processing_then_ready(client: KieClient, tmp_path) -> None:
    task = await client.generate("Spin")
    await wait_until_done(client, task.task_id)
    assert await client.get_1080p_video(task.task_id) is None
    url = None
    for _ in range(100):
        url = await client.get_1080p_video(task.task_id)
        if url:
            break
        await asyncio.sleep(0.05)
    assert url is not None
    (tmp_path / "hd.mp4").write_bytes((await fetch(url)).content)
    assert (probe_video(tmp_path / "hd.mp4").width, probe_video(tmp_path / "hd.mp4").height) == (1920, 1080)


async def test_4k_upgrade_started_processing_done(client: KieClient, callbacks: CallbackReceiver) -> None:
    task = await client.generate("Spin")
    await wait_until_done(client, task.task_id)
    started = await client.get_4k_video(task.task_id, callback_url=f"{callbacks.url}/4k")
    assert started.state == "started" and started.task_id
    assert (await client.get_4k_video(task.task_id)).state == "processing"
    [delivery] = callbacks.wait_for(1)
    assert delivery["body"]["data"]["info"]["resultUrls"]
    done = await client.get_4k_video(task.task_id)
    assert done.state == "done" and done.video_urls and done.image_urls
    record = await client.record_info(started.task_id)
    assert record.state is ProviderState.SUCCEEDED and record.media_ids
    assert (await fetch(done.image_urls[0])).headers["content-type"] == "image/jpeg"


async def test_extend_gives_a_full_video(client: KieClient, kie: KieEmulatorHandle) -> None:
    task = await client.generate("Spin")
    await wait_until_done(client, task.task_id)
    extension = await client.extend(task.task_id, "Keep spinning, then stop", model="quality", seeds=23456)
    assert kie.task(extension.task_id)["params"]["model"] == "quality"
    status = await wait_until_done(client, extension.task_id)
    assert status.full_video_urls and status.video_url == status.full_video_urls[0]


async def test_extend_of_an_unknown_task(client: KieClient) -> None:
    with pytest.raises(TaskNotFoundError):
        await client.extend("no-such-task", "more")


async def test_uploads_are_fetchable(client: KieClient) -> None:
    image = png_bytes()
    streamed = await client.upload_file(image, upload_path="images/veo31", file_name="a1.png")
    assert (
        streamed.mime_type == "image/png"
        and streamed.size == len(image)
        and streamed.file_path == "images/veo31/a1.png"
    )
    assert (await fetch(streamed.download_url)).content == image


async def test_upload_of_a_path(client: KieClient, tmp_path) -> None:
    path = tmp_path / "shot.png"
    path.write_bytes(png_bytes())
    upload = await client.upload_file(path)
    assert upload.file_name == "shot.png" and (await fetch(upload.download_url)).content == path.read_bytes()


async def test_expired_link_gets_a_fresh_one(client: KieClient, kie: KieEmulatorHandle) -> None:
    kie.fault("expired_link")
    task = await client.generate("Spin")
    status = await wait_until_done(client, task.task_id)
    assert (await fetch(status.video_url or "")).status_code == 404
    fresh = await client.download_url(status.video_url or "")
    response = await fetch(fresh)
    assert response.status_code == 200 and response.content[4:8] == b"ftyp"


async def test_a_result_that_is_gone(client: KieClient, kie: KieEmulatorHandle) -> None:
    kie.fault("gone")
    task = await client.generate("Spin")
    status = await wait_until_done(client, task.task_id)
    assert (await fetch(status.video_url or "")).status_code == 404
    with pytest.raises(TaskNotFoundError, match="deleted"):
        await client.download_url(status.video_url or "")


async def test_download_url_refuses_foreign_links(client: KieClient) -> None:
    with pytest.raises(InvalidRequestError):
        await client.download_url("https://example.com/video.mp4")


# -- typed errors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["envelope", "http"])
async def test_wrong_key(kie: KieEmulatorHandle, style: str) -> None:
    kie.configure(error_style=style)
    async with KieClient("kie-wrong-key-000000000000", base_url=kie.url, upload_base_url=kie.url) as wrong:
        with pytest.raises(AuthenticationError, match="KIE_API_KEY") as caught:
            await wrong.credits()
        with pytest.raises(AuthenticationError):
            await wrong.upload_file(png_bytes())
    assert caught.value.code == 401
    assert caught.value.http_status == (200 if style == "envelope" else 401)
    assert kie.calls("credit") == 1, "an authentication error is not retried"


def test_missing_key_names_the_setting() -> None:
    with pytest.raises(ConfigurationError, match="KIE_API_KEY is not set"):
        KieClient(None)
    with pytest.raises(ConfigurationError):
        KieClient("   ")


async def test_insufficient_credits(client: KieClient, kie: KieEmulatorHandle) -> None:
    kie.set_credits(100)
    with pytest.raises(InsufficientCreditsError, match="top up|Top up"):
        await client.generate("Spin", model="veo3_fast")
    assert kie.calls("generate") == 1 and kie.state()["tasks"] == []


@pytest.mark.parametrize("style", ["envelope", "http"])
async def test_rate_limit_burst_over_20_per_10_seconds(kie: KieEmulatorHandle, style: str) -> None:
    kie.configure(error_style=style)
    async with KieClient(KIE_TEST_KEY, base_url=kie.url, retry=NO_RETRY) as client:
        await asyncio.gather(*(client.generate(f"clip {n}") for n in range(20)))
        with pytest.raises(RateLimitedError) as caught:
            await client.generate("one too many")
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 10
    assert len(kie.state()["tasks"]) == 20


async def test_unreachable_reference_image(client: KieClient, closed_port_url: str) -> None:
    with pytest.raises(ReferenceImageUnreachableError, match="public"):
        await client.generate("Spin", image_urls=[f"{closed_port_url}/product.png"])


async def test_invalid_requests_are_refused_before_sending(client: KieClient, kie: KieEmulatorHandle) -> None:
    image = "https://images.example.com/a.png"
    bad_calls = [
        dict(prompt=""),
        dict(prompt="x", image_urls=[image] * 4),
        dict(prompt="x", generation_type="TEXT_2_VIDEO", image_urls=[image]),
        dict(prompt="x", generation_type="REFERENCE_2_VIDEO"),
        dict(prompt="x", generation_type="REFERENCE_2_VIDEO", image_urls=[image], model="veo3"),
        dict(prompt="x", model="veo4"),
        dict(prompt="x", aspect_ratio="1:1"),
        dict(prompt="x", resolution="8k"),
        dict(prompt="x", seeds=42),
        dict(prompt="x", image_urls=["file:///etc/passwd"]),
        dict(prompt="x", callback_url="ftp://example.com/cb"),
    ]
    for kwargs in bad_calls:
        with pytest.raises(InvalidRequestError, match="not sent to Kie.ai"):
            await client.generate(**kwargs)  # type: ignore[arg-type]
    assert kie.calls("generate") == 0


async def test_unknown_task(client: KieClient) -> None:
    with pytest.raises(TaskNotFoundError, match="record is null"):
        await client.record_info("0" * 32)


async def test_1080p_of_an_unfinished_task(client: KieClient, kie: KieEmulatorHandle) -> None:
    kie.configure(generation_seconds=30)
    task = await client.generate("Spin")
    with pytest.raises(InvalidRequestError, match="not success"):
        await client.get_1080p_video(task.task_id)


@pytest.mark.parametrize(
    ("flag", "code", "msg", "expected"),
    [
        (3, 501, "Video generation failed", GenerationFailedError),
        (2, 400, "Your prompt was flagged by Website as violating content policies.", ContentRejectedError),
        (3, 400, "Failed to fetch the image. Kindly verify any access limits", ReferenceImageUnreachableError),
    ],
)
async def test_failed_generations(
    client: KieClient,
    kie: KieEmulatorHandle,
    callbacks: CallbackReceiver,
    flag: int,
    code: int,
    msg: str,
    expected: type,
) -> None:
    kie.fault("fail", flag=flag, error_code=code, msg=msg)
    before = await client.credits()
    task = await client.generate("Spin", callback_url=f"{callbacks.url}/cb")
    status = await wait_until_done(client, task.task_id)
    assert status.state is ProviderState.FAILED and isinstance(status.error, expected)
    assert msg in status.error.message
    [delivery] = callbacks.wait_for(1)
    assert delivery["body"]["code"] == code
    assert KieClient.parse_callback(delivery["body"]).state is ProviderState.FAILED
    assert await client.credits() == before, "failed tasks are not charged"


async def test_upstream_timeout_408(client: KieClient, kie: KieEmulatorHandle) -> None:
    kie.fault("error", endpoint="generate", code=408, msg="Upstream returned nothing for over 10 minutes")
    with pytest.raises(TimedOutError):
        await client.generate("Spin")


async def test_content_rejected_at_create(client: KieClient, kie: KieEmulatorHandle) -> None:
    kie.fault("error", endpoint="generate", code=422, msg="Your request was rejected by Flow(prohibited content)")
    with pytest.raises(ContentRejectedError):
        await client.generate("Spin")


async def test_unreachable_server(closed_port_url: str, sleeps: SleepLog) -> None:
    async with KieClient(KIE_TEST_KEY, base_url=closed_port_url, sleep=sleeps) as client:
        with pytest.raises(ProviderConnectionError, match="could not reach Kie.ai"):
            await client.record_info("abc")
    assert len(sleeps.delays) == 3, "reads are retried (4 attempts) before giving up"


async def test_wrong_base_url_names_the_setting(kie: KieEmulatorHandle) -> None:
    async with KieClient(KIE_TEST_KEY, base_url=f"{kie.url}/wrong/prefix", retry=NO_RETRY) as client:
        with pytest.raises(InvalidRequestError, match="KIE_BASE_URL"):
            await client.credits()


# -- retry rules and faults -----------------------------------------------------------------------------------


async def test_generate_that_times_out_after_sending_is_never_sent_twice(kie: KieEmulatorHandle, sleeps) -> None:
    kie.fault("slow", endpoint="generate", seconds=2.0)
    async with KieClient(KIE_TEST_KEY, base_url=kie.url, timeout=0.5, sleep=sleeps) as client:
        with pytest.raises(SubmissionUncertainError, match="kie.ai/logs") as caught:
            await client.generate("Spin")
    assert caught.value.task_may_exist is True
    await asyncio.sleep(2.0)
    assert kie.calls("generate") == 1 and len(kie.state()["tasks"]) == 1 and sleeps.delays == []


@pytest.mark.parametrize("kind", ["drop", "malformed"])
async def test_generate_answered_with_garbage_is_uncertain(
    client: KieClient, kie: KieEmulatorHandle, kind: str
) -> None:
    kie.fault(kind, endpoint="generate")
    with pytest.raises(SubmissionUncertainError):
        await client.generate("Spin")
    assert kie.calls("generate") == 1 and len(kie.state()["tasks"]) == 1


async def test_generate_retries_a_429_after_retry_after(client: KieClient, kie: KieEmulatorHandle, sleeps) -> None:
    kie.fault("rate_limit", endpoint="generate", count=2, retry_after=2)
    task = await client.generate("Spin")
    assert sleeps.delays == [2.0, 2.0]
    assert kie.calls("generate") == 3 and [t["taskId"] for t in kie.state()["tasks"]] == [task.task_id]


async def test_generate_retries_maintenance(client: KieClient, kie: KieEmulatorHandle, sleeps) -> None:
    kie.fault("maintenance", endpoint="generate", count=1)
    await client.generate("Spin")
    assert kie.calls("generate") == 2 and len(sleeps.delays) == 1


@pytest.mark.parametrize("style", ["envelope", "http"])
async def test_generate_does_not_retry_a_server_error(client: KieClient, kie: KieEmulatorHandle, style: str) -> None:
    kie.fault("server_error", endpoint="generate", count=1, style=style)
    with pytest.raises(UnavailableError) as caught:
        await client.generate("Spin")
    assert caught.value.http_status == (200 if style == "envelope" else 500)
    assert kie.calls("generate") == 1


async def test_generate_retries_a_refused_connection(closed_port_url: str, sleeps: SleepLog) -> None:
    async with KieClient(KIE_TEST_KEY, base_url=closed_port_url, sleep=sleeps) as client:
        with pytest.raises(ProviderConnectionError):
            await client.generate("Spin")
    assert len(sleeps.delays) == 3


async def test_generate_gives_up_when_retry_after_is_too_long(kie: KieEmulatorHandle, sleeps: SleepLog) -> None:
    kie.fault("rate_limit", endpoint="generate", count=1, retry_after=120)
    async with KieClient(KIE_TEST_KEY, base_url=kie.url, sleep=sleeps, retry=RetryPolicy(max_retry_after=60)) as c:
        with pytest.raises(RateLimitedError) as caught:
            await c.generate("Spin")
    assert caught.value.retry_after == 120 and sleeps.delays == []


@pytest.mark.parametrize("kind", ["server_error", "maintenance", "rate_limit", "drop", "malformed"])
async def test_reads_are_retried_through_faults(client: KieClient, kie: KieEmulatorHandle, sleeps, kind: str) -> None:
    task = await client.generate("Spin")
    kie.fault(kind, endpoint="record-info", count=2, retry_after=0)
    status = await client.record_info(task.task_id)
    assert status.task_id == task.task_id
    assert kie.calls("record-info") == 3 and len(sleeps.delays) == 2


async def test_slow_reads_time_out_and_are_retried(kie: KieEmulatorHandle, sleeps: SleepLog) -> None:
    kie.fault("slow", endpoint="credit", count=1, seconds=1.5)
    async with KieClient(KIE_TEST_KEY, base_url=kie.url, timeout=0.5, sleep=sleeps) as client:
        assert await client.credits() > 0
    assert kie.calls("credit") == 2 and len(sleeps.delays) == 1


async def test_reads_give_up_after_the_policy(client: KieClient, kie: KieEmulatorHandle, sleeps) -> None:
    kie.fault("server_error", endpoint="credit", count=None)
    with pytest.raises(UnavailableError):
        await client.credits()
    assert kie.calls("credit") == 4 and len(sleeps.delays) == 3


async def test_string_urls_fault(client: KieClient, kie: KieEmulatorHandle, callbacks: CallbackReceiver) -> None:
    kie.fault("string_urls")
    task = await client.generate("Spin", callback_url=f"{callbacks.url}/cb")
    status = await wait_until_done(client, task.task_id)
    assert isinstance(status.raw["data"]["response"]["resultUrls"], str)
    assert status.video_url and (await fetch(status.video_url)).status_code == 200
    [delivery] = callbacks.wait_for(1)
    assert isinstance(delivery["body"]["data"]["info"]["resultUrls"], str)
    assert KieClient.parse_callback(delivery["body"]).video_url == status.video_url


async def test_duplicate_callbacks(client: KieClient, kie: KieEmulatorHandle, callbacks: CallbackReceiver) -> None:
    kie.fault("callback_duplicate")
    await client.generate("Spin", callback_url=f"{callbacks.url}/cb")
    received = callbacks.wait_for(2)
    assert len(received) == 2 and received[0]["body"] == received[1]["body"]


async def test_late_callback(client: KieClient, kie: KieEmulatorHandle, callbacks: CallbackReceiver) -> None:
    kie.fault("callback_late", seconds=1.0)
    task = await client.generate("Spin", callback_url=f"{callbacks.url}/cb")
    status = await wait_until_done(client, task.task_id)
    assert status.state is ProviderState.SUCCEEDED and callbacks.received == []
    assert len(callbacks.wait_for(1)) == 1


async def test_lost_callback_leaves_polling(
    client: KieClient, kie: KieEmulatorHandle, callbacks: CallbackReceiver
) -> None:
    kie.fault("callback_lost")
    task = await client.generate("Spin", callback_url=f"{callbacks.url}/cb")
    assert (await wait_until_done(client, task.task_id)).state is ProviderState.SUCCEEDED
    await asyncio.sleep(0.3)
    assert callbacks.received == [] and kie.task(task.task_id)["callbacks"] == [{"lost": True}]


async def test_failing_callback_receiver_is_retried(
    client: KieClient, kie: KieEmulatorHandle, callbacks: CallbackReceiver
) -> None:
    callbacks.status = 503
    task = await client.generate("Spin", callback_url=f"{callbacks.url}/cb")
    assert len(callbacks.wait_for(2, timeout=5)) >= 2
    assert all(record.get("status") == 503 for record in kie.task(task.task_id)["callbacks"])


async def test_per_request_fault_header(kie: KieEmulatorHandle) -> None:
    async with httpx.AsyncClient(base_url=kie.url, headers={"Authorization": f"Bearer {KIE_TEST_KEY}"}) as http:
        limited = await http.get("/api/v1/chat/credit", headers={"X-Emulator-Fault": "rate_limit"})
        assert limited.json()["code"] == 429 and limited.headers["Retry-After"] == "1"
        assert (await http.get("/api/v1/chat/credit")).json()["code"] == 200
        custom = await http.get(
            "/api/v1/chat/credit", headers={"X-Emulator-Fault": '{"kind": "error", "code": 505, "style": "http"}'}
        )
        assert custom.status_code == 505 and custom.json()["code"] == 505
        bad = await http.get("/api/v1/chat/credit", headers={"X-Emulator-Fault": "no_such_fault"})
        assert bad.json()["code"] == 400


async def test_result_video_is_a_real_mp4(client: KieClient) -> None:
    task = await client.generate("Spin")
    status = await wait_until_done(client, task.task_id)
    content = (await fetch(status.video_url or "")).content
    import av

    with av.open(io.BytesIO(content)) as container:
        frames = [frame.to_ndarray(format="gray") for frame in container.decode(video=0)]
    assert len(frames) == 24
    assert all((a != b).any() for a, b in zip(frames, frames[1:], strict=False)), "every frame moves"


async def test_a_connection_idle_past_the_keep_alive_is_not_reused() -> None:
    """A connection left idle is dropped before a server's usual keep-alive (uvicorn's 5 s) runs out, so a request
    never goes out on one the server is closing at that moment — a paid submission lost that way would be
    uncertain. Within the keep-alive, connections are reused."""
    server = KeepAliveServer(b'{"code":200,"msg":"success","data":100}')
    try:
        async with KieClient(KIE_TEST_KEY, base_url=server.url, retry=NO_RETRY, timeout=10) as client:
            assert await client.credits() == 100
            assert await client.credits() == 100
            assert server.connections == 1, "back to back, the connection is reused"
            await asyncio.sleep(KEEPALIVE_SECONDS + 0.5)
            assert await client.credits() == 100
            assert server.connections == 2, "after the keep-alive, a new connection"
    finally:
        server.close()
    assert KEEPALIVE_SECONDS < 5


async def test_the_paid_request_is_whole_only_after_the_marker_is_written() -> None:
    """The "maybe sent" marker is written while Kie still lacks the request's last byte: a crash before the
    marker leaves no task (the request never arrived whole), so only the instant after it is uncertain."""
    server = HeldBackServer(KIE_ANSWER)
    try:
        async with KieClient(KIE_TEST_KEY, base_url=server.url, retry=NO_RETRY, timeout=10) as client:
            task = await client.generate("A lamp on a desk", before_send=server.marker)
    finally:
        server.close()
    assert task.task_id == "task-whole"
    ((received, length),) = server.at_marker
    assert length is not None and received == length - 1, "all but the last byte had arrived at the marker"
    assert server.received == length and server.requests == 1


async def test_a_paid_request_cut_off_before_its_last_byte_is_safe_to_send_again() -> None:
    """The connection dies while the body is still going out: Kie never had the request whole, so this is a
    plain connection error (safe to repeat) — not an uncertain submission — and no marker was written."""
    server = HeldBackServer(KIE_ANSWER, hang_up_after=64 * 1024)
    markers: list[bool] = []
    prompt = "A lamp on a desk. " * 2_000_000  # 36 MB: far more than the socket buffers hold
    try:
        async with KieClient(KIE_TEST_KEY, base_url=server.url, retry=NO_RETRY, timeout=10) as client:
            with pytest.raises(ProviderConnectionError) as caught:
                await client.generate(prompt, before_send=note_marker(markers))
    finally:
        server.close()
    assert caught.value.retryable
    assert "safe to try again" in caught.value.message
    assert markers == [] and server.requests == 0
