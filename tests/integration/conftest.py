"""An in-process veo31 server (create_app on a real port) wired to the session's Kie emulator, with callbacks."""

from __future__ import annotations

import base64
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import KIE_TEST_KEY, KieEmulatorHandle, ServeProcess, png_bytes, wait_answering
from tests.databases import database_for
from veo31.api.app import create_app
from veo31.config import load_settings
from veo31.emulators.serve import ServerThread

FINAL = {"completed", "failed", "canceled"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def polling_server(emulator: str, data: Path, **extra: str) -> ServeProcess:
    """`veo31 serve` (not started) on the Kie emulator process at `emulator`, with no public URL: no callback, each
    wait ends by asking every second."""
    env = {
        "KIE_API_KEY": KIE_TEST_KEY,
        "KIE_BASE_URL": emulator,
        "KIE_UPLOAD_BASE_URL": emulator,
        "VEO31_FIRST_POLL_SECONDS": "1",
        "VEO31_MAX_POLL_SECONDS": "1",
        "VEO31_QUEUE_POLL_SECONDS": "0.2",
    }
    return ServeProcess({**env, **extra}, free_port(), str(data))


class Api:
    """A synchronous client for the server under test, with the waits a test needs."""

    def __init__(self, url: str, data_dir: Path) -> None:
        self.url = url
        self.data_dir = data_dir
        self.http = httpx.Client(base_url=url, timeout=60)

    def create(
        self,
        *,
        files: list[bytes] | None = None,
        expect: int = 201,
        headers: dict[str, str] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        if files is not None:
            multipart = [("images", (f"p{index}.png", content, "image/png")) for index, content in enumerate(files)]
            data = {key: str(value) for key, value in fields.items()}
            response = self.http.post("/v1/generations", files=multipart, data=data, headers=headers)
        else:
            response = self.http.post("/v1/generations", json=fields, headers=headers)
        assert response.status_code == expect, response.text
        return response.json()

    def get(self, generation_id: str) -> dict[str, Any]:
        response = self.http.get(f"/v1/generations/{generation_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def wait(self, generation_id: str, statuses: set[str] = FINAL, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            generation = self.get(generation_id)
            if generation["status"] in statuses:
                return generation
            assert time.monotonic() < deadline, f"still {generation['status']}: {generation['history']}"
            time.sleep(0.05)

    def statuses(self, generation: dict[str, Any]) -> list[str]:
        return [change["status"] for change in generation["history"]]


@pytest.fixture(scope="session")
def api_server(kie_server: KieEmulatorHandle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    data_dir = tmp_path_factory.mktemp("veo31-data")
    port = free_port()
    settings = load_settings(
        database_url=database_for(data_dir),
        kie_api_key=KIE_TEST_KEY,
        kie_base_url=kie_server.url,
        kie_upload_base_url=kie_server.url,
        data_dir=data_dir,
        public_url=f"http://127.0.0.1:{port}",
        allow_private_urls=True,
        port=port,
        first_poll_seconds=1.0,
        max_poll_seconds=2.0,
        wake_interval_seconds=0.05,
        queue_poll_seconds=0.2,
        generation_deadline_seconds=120,
        sweep_interval_seconds=3600,
        webhook_retry_seconds=[0.2, 0.4, 0.8, 1.0, 1.0, 2.0, 2.0, 3.0],
        webhook_dispatch_seconds=0.2,
    )
    with ServerThread(create_app(settings), port=port) as server:
        yield Api(server.url, data_dir)


@pytest.fixture
def api(api_server: Api, kie: KieEmulatorHandle) -> Api:
    """The session's veo31 server; the emulator behind it is reset for each test."""
    return api_server


def hosted_image(kie: KieEmulatorHandle, content: bytes | None = None) -> str:
    """Put an image on the emulator's upload host and return its (loopback) URL."""
    response = kie.control.post(
        "/api/file-base64-upload",
        headers={"Authorization": f"Bearer {KIE_TEST_KEY}"},
        json={"base64Data": base64.b64encode(content or png_bytes()).decode(), "uploadPath": "test"},
    )
    return response.json()["data"]["downloadUrl"]


SETTLED = ("completed", "failed", "canceled", "needs_review")


def settled(url: str, generation_id: str, timeout: float = 180) -> dict[str, Any]:
    """The generation once nothing more happens to it without a person, read from the server at `url`."""
    deadline = time.monotonic() + timeout
    while True:
        generation = httpx.get(f"{url}/v1/generations/{generation_id}", timeout=10).json()
        if generation["status"] in SETTLED:
            return generation
        assert time.monotonic() < deadline, f"still {generation['status']}: {generation['history']}"
        time.sleep(0.1)


@pytest.fixture
def emulator_process(tmp_path: Path) -> Iterator[str]:
    """The Kie emulator as a process of its own (3 s generations), so it outlives a killed veo31 server."""
    with kie_process(tmp_path, clip_seconds=1) as url:
        yield url


@contextlib.contextmanager
def kie_process(tmp_path: Path, *, clip_seconds: float, generation_seconds: float = 3) -> Iterator[str]:
    """`veo31 emulate kie` in a process of its own, its log in `tmp_path`; its URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "veo31",
            "emulate",
            "kie",
            "--port",
            str(port),
            "--generation-seconds",
            str(generation_seconds),
            "--clip-seconds",
            str(clip_seconds),
            "--key",
            KIE_TEST_KEY,
            # A provider that keeps knocking: with the server down this often, three tries over 6 s can all land
            # on a dead server, and a paid task whose id was never recorded is then found only by its callback.
            "--callback-attempts",
            "10",
        ],
        stdout=(tmp_path / "emulator.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_answering(f"{url}/_emulator/state")
        yield url
    finally:
        process.terminate()
        process.wait(10)
