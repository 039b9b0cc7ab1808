"""Google Veo 3.1 end to end: a real `veo31 serve` process on each surface against the Google emulator, through
the HTTP API and the old routes — modes, filters, failures, 429s, a retired model, a restart mid-generation,
fallback from Kie.ai, and the budget cap."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import KIE_TEST_KEY, KieEmulatorHandle, ServeProcess, png_bytes
from tests.google import GOOGLE_KEY, Emulator
from tests.integration.conftest import Api, free_port
from veo31.emulators.gemini import create_gemini_emulator
from veo31.emulators.serve import ServerThread
from veo31.media.probe import probe_video

COMMON = {
    "VEO31_FIRST_POLL_SECONDS": "0.3",
    "VEO31_MAX_POLL_SECONDS": "0.6",
    "VEO31_WAKE_INTERVAL_SECONDS": "0.05",
    "VEO31_QUEUE_POLL_SECONDS": "0.2",
    "VEO31_LOCAL_DISABLED": "true",
    "VEO31_ALLOW_PRIVATE_URLS": "true",
}


def surface_env(surface: str, url: str) -> dict[str, str]:
    if surface == "vertex":
        return {"GOOGLE_GENAI_USE_VERTEXAI": "true", "GOOGLE_API_KEY": GOOGLE_KEY, "VEO31_VERTEX_BASE_URL": url}
    return {"GEMINI_API_KEY": GOOGLE_KEY, "GEMINI_BASE_URL": url}


@pytest.fixture(scope="module")
def google_emulator() -> Iterator[Emulator]:
    app = create_gemini_emulator(api_keys=[GOOGLE_KEY], generation_seconds=0.5, clip_seconds=1.0, render_scale=0.25)
    with ServerThread(app) as server:
        yield Emulator(server.url)


@pytest.fixture
def google(google_emulator: Emulator) -> Emulator:
    google_emulator.reset()
    return google_emulator


def start_server(tmp: Path, env: dict[str, str]) -> tuple[ServeProcess, Api]:
    server = ServeProcess({**COMMON, **env}, free_port(), str(tmp))
    server.start()
    return server, Api(server.url, tmp)


@pytest.fixture(scope="module", params=["vertex", "gemini-api"])
def google_api(
    request: pytest.FixtureRequest, google_emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Api]]:
    server, api = start_server(
        tmp_path_factory.mktemp(f"veo31-{request.param}"), surface_env(request.param, google_emulator.url)
    )
    try:
        yield request.param, api
    finally:
        server.stop()


@pytest.fixture(scope="module")
def image_host() -> Iterator[str]:
    async def image(request: Request) -> Response:
        return Response(png_bytes(colour=(40, 160, 60)), media_type="image/png")

    with ServerThread(Starlette(routes=[Route("/{name}.png", image)])) as server:
        yield server.url


@pytest.mark.parametrize(
    "mode,images,instance",
    [
        ("first_frame", 1, ["image", "prompt"]),
        ("first_last", 2, ["image", "lastFrame", "prompt"]),
        ("reference", 3, ["prompt", "referenceImages"]),
    ],
)
def test_each_mode_through_the_api(
    google_api: tuple[str, Api], google: Emulator, mode: str, images: int, instance: list[str]
) -> None:
    surface, api = google_api
    files = [png_bytes(colour=(60 * i, 80, 200)) for i in range(images)]
    started = api.create(files=files, mode=mode, product_name="Mug", aspect_ratio="9:16")
    assert started["provider"] == "gemini" and started["cost"]["estimate_usd"] == pytest.approx(0.8)
    done = api.wait(started["id"])
    assert done["status"] == "completed", done["error"]
    assert api.statuses(done) == [
        "queued",
        "preparing",
        "submitted",
        "generating",
        "retrieving",
        "checking",
        "completed",
    ]
    assert "/operations/" in done["provider_task_id"]
    assert done["cost"]["reported_usd"] == pytest.approx(0.8) and "list price" in done["cost"]["basis"]
    video = httpx.get(done["video_url"])
    assert video.status_code == 200
    target = api.data_dir / f"{mode}.mp4"
    target.write_bytes(video.content)
    info = probe_video(target)
    assert info.frames > 0 and info.height > info.width
    operation = google.state()["operations"][0]
    assert operation["surface"] == ("vertex" if surface == "vertex" else "gemini")
    assert operation["request"]["instance_keys"] == instance
    assert google.calls("predict") == 1 and google.calls("key_in_query") == 0


def test_a_filtered_video_fails_with_googles_reason_and_costs_nothing(
    google_api: tuple[str, Api], google: Emulator
) -> None:
    _, api = google_api
    google.fault("rai", msg="Your prompt may violate our usage guidelines. Support codes: 17301594")
    done = api.wait(api.create(files=[png_bytes()])["id"])
    assert done["status"] == "failed"
    assert done["error"]["kind"] == "content_rejected"
    assert "Support codes: 17301594" in done["error"]["message"] and "not charged" in done["error"]["message"]
    assert done["cost"]["reported_usd"] == 0
    assert google.calls("predict") == 1, "a safety block is not retried"


def test_the_audio_filter_is_tried_once_more(google_api: tuple[str, Api], google: Emulator) -> None:
    _, api = google_api
    google.fault("rai_audio", count=1)
    done = api.wait(api.create(files=[png_bytes()])["id"])
    assert done["status"] == "completed", done["error"]
    assert google.calls("predict") == 2
    assert any("trying once more" in (change["detail"] or "") for change in done["history"])
    assert done["cost"]["reported_usd"] == pytest.approx(0.8), "the blocked try was free; the video was not"


def test_an_error_operation_fails_with_its_message(google_api: tuple[str, Api], google: Emulator) -> None:
    _, api = google_api
    google.fault("op_error", code=13, msg="Video generation failed due to an internal error.")
    done = api.wait(api.create(files=[png_bytes()])["id"])
    assert done["status"] == "failed" and done["error"]["kind"] == "generation_failed"
    assert "internal error" in done["error"]["message"] and done["error"]["advice"]


def test_per_minute_429s_are_waited_out(google_api: tuple[str, Api], google: Emulator) -> None:
    _, api = google_api
    google.configure(retry_delay_seconds=0.2)
    google.fault("rate_limit", endpoint="predict", count=2)
    done = api.wait(api.create(files=[png_bytes()])["id"])
    assert done["status"] == "completed", done["error"]
    assert google.calls("predict") == 3


def test_a_daily_quota_429_fails_with_what_to_do(google_api: tuple[str, Api], google: Emulator) -> None:
    _, api = google_api
    google.fault("quota", endpoint="predict")
    done = api.wait(api.create(files=[png_bytes()])["id"])
    assert done["status"] == "failed" and done["error"]["kind"] == "rate_limited"
    assert "daily quota" in done["error"]["message"]
    assert google.calls("predict") == 1


def test_what_google_cannot_make_is_refused_before_anything_starts(
    google_api: tuple[str, Api], google: Emulator
) -> None:
    _, api = google_api
    for fields, words in [
        (
            {"duration_seconds": 4, "resolution": "1080p", "mode": "first_frame"},
            "Google makes 8 s videos from a first frame at 1080p, not 4 s",
        ),
        ({"duration_seconds": 6, "mode": "reference"}, "Google makes 8 s videos with 1–3 product photos, not 6 s"),
        (
            {"model_tier": "lite", "resolution": "4k", "mode": "first_frame"},
            "Google makes 720p or 1080p videos with the lite model, not 4k",
        ),
        ({"duration_seconds": 5, "mode": "first_frame"}, "makes 4 or 6 or 8 s videos from a first frame, not 5 s"),
    ]:
        refused = api.create(files=[png_bytes()], expect=422, **fields)
        assert words in refused["detail"], refused
    assert google.calls("predict") == 0


def test_old_routes_reach_google(google_api: tuple[str, Api], google: Emulator, image_host: str) -> None:
    _, api = google_api
    response = api.http.post(
        "/veo31/generate-from-urls",
        data={
            "reference_image_urls": f"{image_host}/a.png",
            "prefer_kie_api": "false",
            "duration_seconds": "5",
        },
    )
    assert response.status_code == 200, response.text
    step3 = response.json()["step3_video_generation"]
    assert step3["provider"] == "google" and step3["task_id"]
    # One photo in auto mode is a reference image, which Veo makes only as 8 s clips.
    assert response.json()["warnings"] == ["duration_seconds=5 is not available on Google; using 8"]
    end = time.monotonic() + 60
    while True:
        status = api.http.get(f"/veo31/status/{step3['task_id']}", params={"provider": "google"}).json()
        if status["status"] in ("completed", "failed") or time.monotonic() > end:
            break
        time.sleep(0.1)
    assert status["status"] == "completed", status
    assert status["provider"] == "google" and status["video_url"].startswith(api.url)
    assert google.calls("predict") == 1


def test_a_retired_model_is_named_by_readyz_and_doctor(google: Emulator, tmp_path: Path) -> None:
    env = {**surface_env("vertex", google.url), "VEO31_GEMINI_MODEL": "veo-3.1-fast-generate-001"}
    google.configure(retired_models=["veo-3.1-fast-generate-001"])
    server, api = start_server(tmp_path / "data", env)
    try:
        ready = api.http.get("/readyz")
        assert ready.status_code == 503
        problem = ready.json()["checks"]["provider_problems"]["gemini"]
        assert "veo-3.1-fast-generate-001" in problem and "VEO31_GEMINI_MODEL" in problem
        started = api.create(files=[png_bytes()])
        done = api.wait(started["id"])
        assert done["error"]["kind"] == "model_unavailable" and "VEO31_GEMINI_MODEL" in done["error"]["advice"]
    finally:
        server.stop()
    doctor = subprocess.run(
        [sys.executable, "-m", "veo31", "doctor"],
        env={**server.env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert doctor.returncode == 1
    assert "veo-3.1-fast-generate-001" in doctor.stdout and "retired" in doctor.stdout
    assert GOOGLE_KEY not in doctor.stdout + doctor.stderr


@pytest.mark.parametrize("surface", ["vertex", "gemini-api"])
def test_a_restart_mid_generation_resumes_polling_by_operation_name(
    surface: str, google: Emulator, tmp_path: Path
) -> None:
    google.configure(generation_seconds=4.0)
    server, api = start_server(tmp_path / "data", surface_env(surface, google.url))
    try:
        started = api.create(files=[png_bytes()])
        api.wait(started["id"], {"generating"}, timeout=30)
        server.kill()
        server.start()
        done = api.wait(started["id"], timeout=60)
    finally:
        server.stop()
    assert done["status"] == "completed", done["error"]
    assert google.calls("predict") == 1, "the operation was polled by name after the restart, not started again"
    assert probe_video(tmp_path / "data" / "blobs" / "videos" / f"{started['id']}.mp4").frames > 0


def test_fallback_moves_a_refused_kie_generation_to_google(
    kie: KieEmulatorHandle, google: Emulator, tmp_path: Path
) -> None:
    kie.set_credits(0)
    env = {
        "KIE_API_KEY": KIE_TEST_KEY,
        "KIE_BASE_URL": kie.url,
        "KIE_UPLOAD_BASE_URL": kie.url,
        "VEO31_FALLBACK": "true",
        "VEO31_HTTP_TIMEOUT": "1.5",
        **surface_env("gemini-api", google.url),
    }
    server, api = start_server(tmp_path / "data", env)
    try:
        moved = api.wait(api.create(files=[png_bytes()])["id"])
        assert moved["status"] == "completed", moved["error"]
        assert moved["provider"] == "gemini"
        left = [c["detail"] for c in moved["history"] if c["detail"] and "left before any task" in c["detail"]]
        assert left and "Kie.ai" in left[0] and "insufficient_credits" in left[0] and "Google" in left[0]
        assert kie.calls("generate") == 1 and google.calls("predict") == 1
        # A Kie submission that timed out after it was sent may have created a task (here it did): never moved.
        kie.set_credits(10_000)
        kie.fault("slow", endpoint="generate", seconds=4)
        kept = api.wait(api.create(files=[png_bytes(colour=(10, 10, 200))])["id"])
        assert kept["provider"] == "kie" and kept["status"] == "failed"
        assert kept["error"]["kind"] == "submission_uncertain"
        assert len(kie.state()["tasks"]) == 1, "Kie made the task; veo31 did not send it anywhere else"
        assert google.calls("predict") == 1, "nothing was sent to Google for it"
    finally:
        server.stop()


def test_without_fallback_a_capability_mismatch_is_refused_and_with_it_auto_routes(
    kie: KieEmulatorHandle, google: Emulator, tmp_path: Path
) -> None:
    env = {
        "KIE_API_KEY": KIE_TEST_KEY,
        "KIE_BASE_URL": kie.url,
        "KIE_UPLOAD_BASE_URL": kie.url,
        **surface_env("gemini-api", google.url),
    }
    server, api = start_server(tmp_path / "strict", env)
    try:
        refused = api.create(files=[png_bytes()], duration_seconds=4, expect=422)
        assert "Kie.ai" in refused["detail"]
    finally:
        server.stop()
    server, api = start_server(tmp_path / "fallback", {**env, "VEO31_FALLBACK": "true"})
    try:
        quote = api.http.get("/v1/estimate", params={"duration_seconds": 4, "mode": "first_frame"}).json()
        assert quote["provider"] == "gemini" and quote["estimate_usd"] == pytest.approx(0.4)
        assert "Kie.ai left" in quote["notes"][0]
        routed = api.create(files=[png_bytes()], duration_seconds=4, mode="first_frame")
        assert routed["provider"] == "gemini"
        assert "Kie.ai left" in (routed["history"][0]["detail"] or "")
        assert api.wait(routed["id"])["status"] == "completed"
    finally:
        server.stop()


def test_the_budget_cap_refuses_new_requests_and_submits_nothing(google: Emulator, tmp_path: Path) -> None:
    env = {**surface_env("gemini-api", google.url), "VEO31_BUDGET_LIMIT": "1.00"}
    server, api = start_server(tmp_path / "data", env)
    try:
        first = api.wait(api.create(files=[png_bytes()])["id"])  # 8 s fast 720p: $0.80
        assert first["status"] == "completed"
        refused = api.create(files=[png_bytes()], expect=402)
        assert refused["error"] == "budget_exceeded"
        assert "VEO31_BUDGET_LIMIT=$1.00" in refused["detail"] and "$0.80" in refused["detail"]
        listing = api.http.get("/v1/generations").json()
        assert len(listing["items"]) == 1 and listing["cost_total_usd"] == pytest.approx(0.8)
        assert api.http.get("/v1/estimate").json()["budget_left_usd"] == pytest.approx(0.2)
        assert google.calls("predict") == 1
    finally:
        server.stop()
