"""Shared fixtures: real servers on real loopback ports, never mocks of our own code."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.databases import database_env
from tests.storage import SeaweedFS
from veo31.emulators.kie import create_kie_emulator
from veo31.emulators.serve import ServerThread

KIE_TEST_KEY = "kie-test-key-5f1c0e7a9b3d4c2e8a6b"


def wait_answering(url: str, seconds: float = 30) -> None:
    """Until a server process just started answers at `url` (it may still be binding its port)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)


@dataclass
class KieEmulatorHandle:
    """A running Kie emulator and a small synchronous remote control for it (over HTTP, like a user would)."""

    url: str
    control: httpx.Client = field(repr=False)

    def reset(self) -> None:
        self.control.post("/_emulator/reset").raise_for_status()

    def configure(self, **changes: Any) -> dict[str, Any]:
        response = self.control.post("/_emulator/config", json=changes)
        response.raise_for_status()
        return response.json()

    def fault(self, kind: str, **fields: Any) -> None:
        self.control.post("/_emulator/faults", json={"kind": kind, **fields}).raise_for_status()

    def set_credits(self, credits: float) -> None:
        self.control.post("/_emulator/credits", json={"credits": credits}).raise_for_status()

    def state(self) -> dict[str, Any]:
        return self.control.get("/_emulator/state").json()

    def calls(self, endpoint: str) -> int:
        return int(self.state()["calls"].get(endpoint, 0))

    def task(self, task_id: str) -> dict[str, Any]:
        return next(task for task in self.state()["tasks"] if task["taskId"] == task_id)


@pytest.fixture(scope="session")
def kie_server() -> Iterator[KieEmulatorHandle]:
    app = create_kie_emulator(
        api_keys=[KIE_TEST_KEY],
        generation_seconds=0.2,
        clip_seconds=1.0,
        upgrade_1080p_seconds=0.3,
        upgrade_4k_seconds=0.3,
    )
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as control:
        yield KieEmulatorHandle(server.url, control)


@pytest.fixture(scope="session")
def seaweedfs() -> Iterator[SeaweedFS]:
    """A real S3 server for the whole run (weed mini on loopback), started on first use."""
    server = SeaweedFS()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kie(kie_server: KieEmulatorHandle) -> KieEmulatorHandle:
    """The session's emulator, reset to its starting state for this test."""
    kie_server.reset()
    return kie_server


@dataclass
class CallbackReceiver:
    """Records every POST it receives; answers with `status` (200 unless a test says otherwise)."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
        return list(self.received)


@pytest.fixture
def callbacks() -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver()

    async def receive(request: Request) -> JSONResponse:
        body = await request.json()
        with receiver.arrived:
            receiver.received.append({"path": request.url.path, "body": body, "headers": dict(request.headers)})
            receiver.arrived.notify_all()
        return JSONResponse({"ok": True}, status_code=receiver.status)

    app = Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])
    with ServerThread(app) as server:
        receiver.url = server.url
        yield receiver


def png_bytes(width: int = 640, height: int = 480, colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A real PNG: a coloured square on white, like a product on a studio background."""
    image = Image.new("RGB", (width, height), (250, 250, 250))
    side = min(width, height) // 2
    left, top = (width - side) // 2, (height - side) // 2
    image.paste(colour, (left, top, left + side, top + side))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL nothing listens on (the port was bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class ServeProcess:
    """`veo31 serve` as a real subprocess on a port of its own: started, killed (-9 if asked) and restarted."""

    def __init__(self, env: dict[str, str], port: int, data_dir: str, args: tuple[str, ...] = ()) -> None:
        import os

        clean = {k: v for k, v in os.environ.items() if not k.startswith(("KIE_", "GEMINI_", "GOOGLE_", "VEO31_"))}
        self.env = {**clean, **database_env(data_dir), **env, "VEO31_PORT": str(port), "VEO31_DATA_DIR": data_dir}
        self.url = f"http://127.0.0.1:{port}"
        self.args = args
        self.process: Any = None
        self.log_path = f"{data_dir}/serve.log"

    def start(self, timeout: float = 60) -> None:
        import os
        import subprocess
        import sys
        import time

        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "veo31", "serve", *self.args], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"veo31 serve exited with {self.process.returncode}: {self.log()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"veo31 serve did not start: {self.log()[-2000:]}")

    def kill(self) -> None:
        import signal

        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        import subprocess

        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()


def kie_env(url: str, **extra: str) -> dict[str, str]:
    """A veo31 process's environment on the Kie emulator at `url`: its images hosted there too (a loopback address,
    allowed), and quick polls."""
    return {
        "KIE_API_KEY": KIE_TEST_KEY,
        "KIE_BASE_URL": url,
        "KIE_UPLOAD_BASE_URL": url,
        "VEO31_ALLOW_PRIVATE_URLS": "true",
        "VEO31_FIRST_POLL_SECONDS": "0.5",
        "VEO31_MAX_POLL_SECONDS": "1",
        "VEO31_QUEUE_POLL_SECONDS": "0.2",
        **extra,
    }
