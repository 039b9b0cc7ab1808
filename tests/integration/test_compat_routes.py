"""The old system's /veo31 routes answer with the same fields and shapes its users' scripts read."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.conftest import KIE_TEST_KEY, KieEmulatorHandle, png_bytes
from tests.integration.conftest import Api, hosted_image
from veo31.providers.kie.client import KieClient


def poll_old_status(api: Api, task_id: str, path: str = "/veo31/kie-status/{}", timeout: float = 30) -> dict:
    """What an old script did: ask every few moments until completed or failed."""
    deadline = time.monotonic() + timeout
    while True:
        body = api.http.get(path.format(task_id)).json()
        if body["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def test_generate_from_urls_in_the_old_shape(api: Api, kie: KieEmulatorHandle) -> None:
    urls = [hosted_image(kie), hosted_image(kie, png_bytes(colour=(0, 200, 0)))]
    response = api.http.post(
        "/veo31/generate-from-urls",
        data={
            "reference_image_urls": ",".join(urls),
            "prefer_kie_api": "true",
            "use_case": "product_video",
            "duration_seconds": "5",
            "aspect_ratio": "16:9",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    step3 = body["step3_video_generation"]
    assert step3["provider"] == "kie.ai" and step3["status"] == "submitted" and step3["task_id"]
    assert isinstance(body["step2_prompt"], str) and body["step2_prompt"] == body["prompt_details"]["prompt"]
    assert body["prompt_details"]["use_case"] == "product_video"
    assert body["step1_analysis"]["analyzer"] == "local" and body["step1_analysis"]["summary"]
    assert body["step1_analysis"]["images"][0]["background"] == "plain studio"
    assert body["warnings"] == ["duration_seconds=5 is not available on Kie.ai; using 8"]
    assert kie.task(step3["provider_task_id"])["params"]["imageUrls"] == urls
    processing = api.http.get(f"/veo31/kie-status/{step3['task_id']}").json()
    assert processing["status"] in ("processing", "completed") and processing["provider"] == "kie.ai"
    done = poll_old_status(api, step3["task_id"])
    assert done["status"] == "completed" and done["task_id"] == step3["task_id"]
    assert done["video_url"].startswith(api.url) and done["provider_video_url"].startswith(kie.url)
    assert httpx.get(done["video_url"]).headers["content-type"] == "video/mp4"


def test_repeated_url_fields_and_old_task_ids(api: Api, kie: KieEmulatorHandle) -> None:
    urls = [hosted_image(kie), hosted_image(kie)]
    body = api.http.post(
        "/veo31/generate-from-urls", data={"reference_image_urls": urls, "prefer_kie_api": "true"}
    ).json()
    provider_task = body["step3_video_generation"]["provider_task_id"]
    assert len(kie.task(provider_task)["params"]["imageUrls"]) == 2
    by_kie_id = poll_old_status(api, provider_task)
    assert (
        by_kie_id["status"] == "completed" and by_kie_id["generation_id"] == body["step3_video_generation"]["task_id"]
    )
    by_status_route = api.http.get(f"/veo31/status/{provider_task}", params={"provider": "kie"}).json()
    assert by_status_route["video_url"] == by_kie_id["video_url"]


def test_generate_with_uploads_and_own_prompt(api: Api, kie: KieEmulatorHandle) -> None:
    files = {
        "reference_image1": ("a.png", png_bytes(), "image/png"),
        "reference_image2": ("b.png", png_bytes(colour=(0, 0, 200)), "image/png"),
    }
    body = api.http.post(
        "/veo31/generate",
        files=files,
        data={
            "prompt": "The watch turns under a soft spotlight",
            "aspect_ratio": "1:1",
            "quality": "high",
            "use_case": "watch_video",
        },
    ).json()
    assert body["step3_video_generation"]["status"] == "submitted"
    assert body["step2_prompt"] == "The watch turns under a soft spotlight"
    assert body["warnings"] == [
        "use_case=watch_video is unknown; using general (known: product_video, hero_image, gemstone_closeup, "
        "luxury_brand, general, lifestyle, unboxing, social_vertical, turntable_360)",
        "aspect_ratio=1:1 is not available; using 16:9",
    ]
    task = kie.task(body["step3_video_generation"]["provider_task_id"])
    assert task["model"] == "veo3" and task["params"]["generationType"] == "FIRST_AND_LAST_FRAMES_2_VIDEO"
    assert poll_old_status(api, body["step3_video_generation"]["task_id"])["status"] == "completed"


def test_a_kie_task_veo31_never_started(api: Api, kie: KieEmulatorHandle) -> None:
    async def outside_task() -> str:
        async with KieClient(KIE_TEST_KEY, base_url=kie.url) as client:
            return (await client.generate("made by another tool")).task_id

    task_id = asyncio.run(outside_task())
    done = poll_old_status(api, task_id)
    assert done["status"] == "completed" and done["video_url"].startswith(kie.url)
    assert done["generation_id"] is None and "not started by veo31" in done["note"]
    missing = api.http.get("/veo31/kie-status/no-such-task")
    assert missing.status_code == 404 and "record is null" in missing.json()["detail"]


def test_failures_in_the_old_shape(api: Api, kie: KieEmulatorHandle) -> None:
    kie.set_credits(0)
    body = api.http.post(
        "/veo31/generate-from-urls", data={"reference_image_urls": hosted_image(kie), "prefer_kie_api": "1"}
    ).json()
    step3 = body["step3_video_generation"]
    assert body["success"] is False and step3["status"] == "failed" and "credits" in step3["error"]
    status = api.http.get(f"/veo31/kie-status/{step3['task_id']}").json()
    assert status["status"] == "failed" and "Top up" in status["error"]


def test_prefer_kie_false_is_a_preference(api: Api, kie: KieEmulatorHandle) -> None:
    """Google preferred but not configured here: the provider `auto` picks makes the video, and says so."""
    response = api.http.post(
        "/veo31/generate-from-urls", data={"reference_image_urls": hosted_image(kie), "prefer_kie_api": "false"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "Google is not configured on this server; using Kie.ai instead" in body["warnings"]
    assert body["step3_video_generation"]["provider"] == "kie.ai" and kie.calls("generate") == 1


def test_generate_from_urls_without_prefer_kie_api_only_analyses(api: Api, kie: KieEmulatorHandle) -> None:
    """The old page's URL tab: this route is its analyse step; the edited prompt goes to generate-with-prompt-urls."""
    response = api.http.post(
        "/veo31/generate-from-urls",
        data={
            "reference_image_urls": ",".join(hosted_image(kie) for _ in range(4)),
            "aspect_ratio": "9:16",
            "additional_prompt": "on marble",
            "platform": "veo3",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body["step2_prompt"], str) and body["step2_prompt"] == body["prompt"]
    assert body["step1_analysis"]["analyzer"] == "local" and len(body["step1_analysis"]["images"]) == 3
    assert body["generation_settings"] == {"aspect_ratio": "9:16", "additional_prompt": "on marble"}
    assert body["ready_for_editing"] is True and "step3_video_generation" not in body
    assert kie.calls("generate") == 0
