"""What the pipeline benchmarks share: the Kie emulator and `veo31 serve` / `veo31 worker` as processes of their
own (so the bench's own client never competes with them for one interpreter), RSS readings and percentiles."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

KEY = "bench-key-0000000000"
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # bench/scale.py starts PostgreSQL the way the tests do (tests/databases.py)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def family(pid: int) -> list[int]:
    """`pid` and every process below it (veo31's media processes), from /proc (Linux)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(_stat_fields(int(entry))[1])
            except (FileNotFoundError, ProcessLookupError):
                continue  # ended while we looked
    found, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        found.extend(frontier)
    return found


def memory_mb(pid: int, members: list[int] | None = None) -> float:
    """Memory of a process and its media processes (`members`, if known: finding them reads all of /proc): their
    proportional set sizes added up, each shared library page counted once in all, from /proc (Linux). For one
    process alone this is close to its RSS."""
    total = 0.0
    for member in members or family(pid):
        try:
            with open(f"/proc/{member}/smaps_rollup", encoding="ascii") as rollup:
                total += next(int(line.split()[1]) for line in rollup if line.startswith("Pss:")) / 1024
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


class MemoryWatch:
    """The memory of a process and its media processes (`memory_mb`) every `every` seconds, while in the `with`."""

    def __init__(self, pid: int, every: float) -> None:
        self.pid, self.every = pid, every
        self.samples: list[float] = []
        self.peak_parts: list[float] = []  # each process's share at the peak: the server first
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        members, found = family(self.pid), time.monotonic()
        while not self._stop.is_set():
            if time.monotonic() - found > 1:  # a media process may have been replaced
                members, found = family(self.pid), time.monotonic()
            parts = [memory_mb(self.pid, [member]) for member in members]
            self.samples.append(sum(parts))
            if self.samples[-1] >= max(self.samples):
                self.peak_parts = parts
            self._stop.wait(self.every)


def cpu_seconds(pid: int) -> float:
    """CPU time a process and its media processes have used so far (user + system), from /proc (Linux)."""
    total = 0.0
    for member in family(pid):
        try:
            fields = _stat_fields(member)
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return stat.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces


def iso(text: str) -> float:
    """An API timestamp as seconds since the epoch."""
    return datetime.fromisoformat(text).timestamp()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


TERMINAL = ("completed", "failed", "canceled")


def finished(client: httpx.Client, ids: set[str], *, pause: float, timeout: float = 1800) -> dict[str, dict]:
    """The generations among `ids` that have ended, by id, paging `GET /v1/generations` every `pause` seconds
    until all have or `timeout` passes (the list is work for the server too: ask rarely)."""
    done: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    while len(done) < len(ids) and time.monotonic() < deadline:
        done.update((item["id"], item) for item in listed(client) if item["id"] in ids and item["status"] in TERMINAL)
        if len(done) < len(ids):
            time.sleep(pause)
    return done


def listed(client: httpx.Client, **params: str) -> Iterator[dict]:
    """Every generation `GET /v1/generations` lists (with `params`, e.g. status), page after page."""
    query: dict[str, str | int] = {"limit": 100, **params}
    while True:
        page = client.get("/v1/generations", params=query).raise_for_status().json()
        yield from page["items"]
        if not page.get("next_cursor"):
            return
        query["cursor"] = page["next_cursor"]


def open_kie_queue(count: int) -> dict[str, str]:
    """Settings that let one `veo31 serve` have `count` Kie generations in flight, unthrottled."""
    return {
        "VEO31_KIE_CONCURRENCY": str(count),
        "VEO31_KIE_FLEET_CONCURRENCY": "0",
        "VEO31_KIE_RATE_LIMIT": "1000000",
        "VEO31_KIE_RATE_PERIOD": "1",
    }


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIE_", "GEMINI_", "GOOGLE_", "VEO31_"))}
    env.update(extra)
    return env


def wait_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer: {log.read_text(errors='replace')[-2000:]}")


class Emulator:
    """`veo31 emulate kie` in a process of its own, configured over its control routes."""

    def __init__(self, log: Path, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Emulator:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as sink:
            command = [sys.executable, "-m", "veo31", "emulate", "kie", "--port", str(self.port), "--key", KEY]
            self.process = subprocess.Popen([*command, *self.args], stdout=sink, stderr=subprocess.STDOUT)
        wait_http(f"{self.url}/_emulator/state", self.process, self.log)
        return self

    def reset(self) -> None:
        """Forget tasks, files and counts; the configuration goes back to the start-up one (configure again)."""
        httpx.post(f"{self.url}/_emulator/reset", timeout=10).raise_for_status()

    def configure(self, **changes: Any) -> None:
        """Change the emulator's settings; the account gets credits enough for any benchmark."""
        httpx.post(f"{self.url}/_emulator/config", json=changes, timeout=10).raise_for_status()
        httpx.post(f"{self.url}/_emulator/credits", json={"credits": 1e9}, timeout=10).raise_for_status()

    def state(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/_emulator/state", timeout=60).json()

    def __exit__(self, *_: object) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(30)


class ServeProcess:
    """`veo31 serve` (or `veo31 worker`) on the emulator, with callbacks, in a process of its own."""

    def __init__(
        self,
        emulator_url: str,
        data_dir: Path,
        env: dict[str, str] | None = None,
        command: str = "serve",
        args: tuple[str, ...] = (),
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command, self.args = command, args
        self.data_dir = data_dir
        self.log = data_dir.parent / f"{command}-{self.port}-{os.getpid()}-{id(self)}.log"
        self.env = clean_env(
            KIE_API_KEY=KEY,
            KIE_BASE_URL=emulator_url,
            KIE_UPLOAD_BASE_URL=emulator_url,
            VEO31_DATA_DIR=str(data_dir),
            VEO31_PORT=str(self.port),
            **{"VEO31_PUBLIC_URL": f"http://127.0.0.1:{self.port}", **(env or {})},
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __enter__(self) -> ServeProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "veo31", self.command, *self.args],
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        if self.command == "serve":
            wait_http(f"{self.url}/healthz", self.process, self.log)
        else:
            deadline = time.monotonic() + 120
            while "worker running" not in self.log.read_text(errors="replace"):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the worker did not start: {self.log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.1)
        return self

    def __exit__(self, *_: object) -> None:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
