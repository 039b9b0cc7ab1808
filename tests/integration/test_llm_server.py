"""A `veo31 serve` with a vision model configured: step 1 and 2 by the model; a failing model loses nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import KIE_TEST_KEY, KieEmulatorHandle, ServeProcess
from tests.integration.conftest import free_port
from veo31.emulators.llm import create_llm_emulator
from veo31.emulators.serve import ServerThread

PHOTO = (Path(__file__).parents[1] / "fixtures" / "product-on-white.jpg").read_bytes()


@pytest.fixture(scope="module")
def llm_url() -> Iterator[str]:
    with ServerThread(create_llm_emulator(api_keys=["sk-serve-llm"])) as server:
        yield server.url


@pytest.fixture(scope="module")
def server(kie_server: KieEmulatorHandle, llm_url: str, tmp_path_factory: pytest.TempPathFactory):
    process = ServeProcess(
        {
            "KIE_API_KEY": KIE_TEST_KEY,
            "KIE_BASE_URL": kie_server.url,
            "KIE_UPLOAD_BASE_URL": kie_server.url,
            "VEO31_LLM_BASE_URL": f"{llm_url}/v1",
            "VEO31_LLM_API_KEY": "sk-serve-llm",
            "VEO31_FIRST_POLL_SECONDS": "0.3",
        },
        free_port(),
        str(tmp_path_factory.mktemp("llm-serve")),
    )
    process.start()
    yield process
    process.stop()


def finish(url: str) -> dict:
    generation = httpx.post(
        f"{url}/v1/generations", files=[("images", ("a.jpg", PHOTO, "image/jpeg"))], data={"product_name": "Red bottle"}
    ).json()
    deadline = time.monotonic() + 120  # a hang guard, not a speed check: a failing model costs retries first
    while (body := httpx.get(f"{url}/v1/generations/{generation['id']}").json())["status"] not in (
        "completed",
        "failed",
    ):
        assert time.monotonic() < deadline, (body["status"], body["history"][-3:])
        time.sleep(0.1)
    return body


def test_the_model_analyses_and_writes(server: ServeProcess, kie: KieEmulatorHandle, llm_url: str) -> None:
    httpx.post(f"{llm_url}/_emulator/reset")
    done = finish(server.url)
    assert done["status"] == "completed"
    assert done["analysis"]["analyzer"] == "llm" and done["prompt_writer"] == "llm"
    assert kie.task(done["provider_task_id"])["params"]["prompt"].startswith("The Red bottle")
    assert "sk-serve-llm" not in server.log()


def test_a_failing_model_loses_nothing(server: ServeProcess, kie: KieEmulatorHandle, llm_url: str) -> None:
    httpx.post(f"{llm_url}/_emulator/reset")
    httpx.post(f"{llm_url}/_emulator/faults", json={"kind": "server_error", "count": None}).raise_for_status()
    done = finish(server.url)
    assert done["status"] == "completed"
    assert done["analysis"]["analyzer"] == "local"
    assert any("local analysis was used" in note for note in done["analysis"]["notes"])
    assert done["prompt_writer"].startswith("template (llm failed: HTTP 500)")
    httpx.post(f"{llm_url}/_emulator/reset")


def test_a_reference_video_reaches_the_model_as_stills(
    server: ServeProcess, kie: KieEmulatorHandle, llm_url: str, tmp_path: Path
) -> None:
    from tests.videos import video_bytes

    httpx.post(f"{llm_url}/_emulator/reset")
    response = httpx.post(
        f"{server.url}/v1/generations",
        timeout=60,
        files=[
            ("images", ("a.jpg", PHOTO, "image/jpeg")),
            ("video", ("ref.mp4", video_bytes(tmp_path, "pan right"), "video/mp4")),
        ],
    )
    assert response.status_code == 201, response.text
    deadline = time.monotonic() + 60
    while (body := httpx.get(f"{server.url}/v1/generations/{response.json()['id']}").json())["status"] != "completed":
        assert time.monotonic() < deadline and body["status"] != "failed", body["error"]
        time.sleep(0.1)
    analysis_requests = [r for r in httpx.get(f"{llm_url}/_emulator/state").json()["requests"] if r["images"]]
    assert analysis_requests[0]["images"] == 4, "one photo and three stills from the video"
    assert body["analysis"]["video"]["camera_motion"] == "pan right"
    assert "as in the reference video" in body["analysis"]["camera_work"]
