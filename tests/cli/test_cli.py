"""The veo31 command, run as a user runs it: a real subprocess, real ports, exit codes and one clear line."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.helpers import VEO31, free_port, run
from tests.conftest import KIE_TEST_KEY, KieEmulatorHandle, wait_answering


def test_version_and_help() -> None:
    assert run("--version").stdout.strip() == "veo31 0.1.0"
    assert "emulate" in run("--help").stdout


def test_doctor_without_keys_is_fine_and_says_how_to_add_kie(tmp_path: Path) -> None:
    result = run("doctor", cwd=tmp_path, env={"VEO31_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 0, result.stderr
    assert "set KIE_API_KEY to use Kie.ai" in result.stdout and (tmp_path / "data").is_dir()


def test_doctor_reaches_the_emulator(kie: KieEmulatorHandle, tmp_path: Path) -> None:
    result = run("doctor", cwd=tmp_path, env={"KIE_API_KEY": KIE_TEST_KEY, "KIE_BASE_URL": kie.url})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "10000 credits left" in result.stdout


def test_doctor_names_the_key_setting_when_refused(kie: KieEmulatorHandle, tmp_path: Path) -> None:
    result = run("doctor", cwd=tmp_path, env={"KIE_API_KEY": "not-the-right-key-0000", "KIE_BASE_URL": kie.url})
    assert result.returncode == 1
    assert "Check KIE_API_KEY" in result.stdout and "Traceback" not in result.stdout + result.stderr


def test_doctor_on_an_unsafe_bind_is_a_usage_error(tmp_path: Path) -> None:
    result = run("doctor", cwd=tmp_path, env={"VEO31_HOST": "0.0.0.0"})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "VEO31_API_TOKENS" in result.stderr


def test_doctor_with_an_unwritable_data_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run("doctor", cwd=tmp_path, env={"VEO31_DATA_DIR": str(blocker / "data")})
    assert result.returncode == 1 and "VEO31_DATA_DIR" in result.stdout


@pytest.fixture
def emulator_process() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            *VEO31,
            "emulate",
            "kie",
            "--port",
            str(port),
            "--generation-seconds",
            "0.1",
            "--clip-seconds",
            "1",
            "--key",
            KIE_TEST_KEY,
            "--fault",
            "string_urls",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_answering(f"{url}/_emulator/state")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def test_emulate_kie_serves_the_api(emulator_process: str) -> None:
    headers = {"Authorization": f"Bearer {KIE_TEST_KEY}"}
    created = httpx.post(f"{emulator_process}/api/v1/veo/generate", json={"prompt": "Spin"}, headers=headers).json()
    assert created["code"] == 200
    time.sleep(1.0)
    record = httpx.get(
        f"{emulator_process}/api/v1/veo/record-info", params={"taskId": created["data"]["taskId"]}, headers=headers
    ).json()
    assert record["data"]["successFlag"] == 1
    assert isinstance(record["data"]["response"]["resultUrls"], str), "--fault string_urls holds for the run"
    state = httpx.get(f"{emulator_process}/_emulator/state").json()
    assert state["calls"] == {"generate": 1, "record-info": 1} and state["config"]["generation_seconds"] == 0.1


def test_emulate_refuses_bad_options() -> None:
    result = run("emulate", "kie", "--fault", "meteor")
    assert result.returncode == 2 and "bad emulator option" in result.stderr
    result = run("emulate", "kie", "--generation-seconds", "-1")
    assert (
        result.returncode == 2 and "--generation-seconds: Input should be greater than or equal to 0" in result.stderr
    )


def test_serve_refuses_an_open_bind_without_tokens(tmp_path: Path) -> None:
    result = run("serve", "--host", "0.0.0.0", cwd=tmp_path)
    assert result.returncode == 2 and "VEO31_API_TOKENS" in result.stderr and "Traceback" not in result.stderr


def test_serve_with_the_built_in_emulator_makes_a_video(tmp_path: Path) -> None:
    from tests.conftest import ServeProcess
    from tests.integration.conftest import free_port

    server = ServeProcess(
        {"VEO31_FIRST_POLL_SECONDS": "0.5"},
        free_port(),
        str(tmp_path / "data"),
        args=("--emulate", "--emulator-port", str(free_port()), "--generation-seconds", "0.5"),
    )
    server.start()
    try:
        created = httpx.post(f"{server.url}/v1/generations", json={"product_name": "first video"}).json()
        deadline = time.monotonic() + 60
        while (body := httpx.get(f"{server.url}/v1/generations/{created['id']}").json())["status"] != "completed":
            assert time.monotonic() < deadline and body["status"] != "failed", body
            time.sleep(0.2)
        assert httpx.get(body["video_url"]).headers["content-type"] == "video/mp4"
        assert "Kie.ai emulator on" in server.log()
    finally:
        server.stop()


FIXTURES = Path(__file__).parents[1] / "fixtures"


def test_analyze_prints_the_analysis_and_prompt(tmp_path: Path) -> None:
    result = run("analyze", str(FIXTURES / "product-on-white.jpg"), "--product", "Red bottle", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    import json

    body = json.loads(result.stdout)
    assert body["analysis"]["colours"][:2] == ["red", "white"] and "Red bottle" in body["prompt"]


def test_analyze_with_a_reference_video(tmp_path: Path) -> None:
    from tests.videos import MOVES, write_video

    video = write_video(tmp_path / "ref.mp4", MOVES["tilt up"])
    result = run("analyze", str(FIXTURES / "tall-photo.jpg"), "--video", str(video), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "video: Mostly tilt up" in result.stdout and "Camera: tilt up" in result.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["missing.jpg"], "cannot read missing.jpg"),
        (["README"], "not a readable"),
        (["A", "B", "C", "D"], "at most 3"),
        (["A", "--use-case", "space_opera"], "--use-case: Input should be"),
    ],
)
def test_analyze_bad_input(tmp_path: Path, args: list[str], words: str) -> None:
    (tmp_path / "README").write_text("words")
    photo = str(FIXTURES / "tall-photo.jpg")
    args = [photo if arg in ("A", "B", "C", "D") else arg for arg in args]
    result = run("analyze", *args, cwd=tmp_path)
    assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr


def test_emulate_llm_serves_chat_completions(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [*VEO31, "emulate", "llm", "--port", str(port), "--key", "sk-cli-test"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.post(
                    f"http://127.0.0.1:{port}/v1/chat/completions",
                    headers={"Authorization": "Bearer sk-cli-test"},
                    json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert answer.status_code == 200 and answer.json()["choices"][0]["message"]["content"]
        refused = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", json={"model": "m", "messages": []})
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
    finally:
        process.terminate()
        process.wait(10)


def test_emulate_gemini_serves_both_surfaces(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [*VEO31, "emulate", "gemini", "--port", str(port), "--key", "g-cli", "--generation-seconds", "0.2"]
        + ["--clip-seconds", "1", "--retired", "veo-3.1-generate-preview", "--fault", "rai:predict"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"x-goog-api-key": "g-cli"}
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                model = httpx.get(f"{base}/v1beta/models/veo-3.1-fast-generate-preview", headers=headers)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert model.status_code == 200 and model.json()["name"] == "models/veo-3.1-fast-generate-preview"
        retired = httpx.get(f"{base}/v1beta/models/veo-3.1-generate-preview", headers=headers)
        assert retired.status_code == 404 and "no longer available" in retired.json()["error"]["message"]
        vertex = f"{base}/v1/projects/p1/locations/us-central1/publishers/google/models/veo-3.1-fast-generate-001"
        started = httpx.post(f"{vertex}:predictLongRunning", json={"instances": [{"prompt": "Spin"}]}, headers=headers)
        name = started.json()["name"]
        assert name.startswith("projects/p1/locations/us-central1/publishers/google/models/veo-3.1-fast-generate-001/")
        time.sleep(0.5)
        done = httpx.post(f"{vertex}:fetchPredictOperation", json={"operationName": name}, headers=headers).json()
        assert done["done"] is True and done["response"]["raiMediaFilteredReasons"], "--fault rai holds for the run"
        assert httpx.get(f"{base}/v1beta/models/veo-3.1-fast-generate-preview").status_code == 403, "no key"
    finally:
        process.terminate()
        process.wait(10)
    assert run("emulate", "gemini", "--fault", "meteor").returncode == 2


def test_serve_on_a_taken_port_says_so_before_claiming_to_run(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run("serve", "--port", str(port), cwd=tmp_path, env={"VEO31_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 2
    assert f"port {port} is taken" in result.stderr and "--port" in result.stderr and "VEO31_PORT" in result.stderr
    assert "veo31 on" not in result.stdout
