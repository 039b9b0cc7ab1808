"""How long after the provider finishes is the video playable from our own storage?

Runs N generations against the Kie emulator (20 MB results, jittered generation times) through a real
`veo31 serve`, twice — with callbacks, and polling only — and prints, side by side, the delay from the moment the
emulator finished each task to the moment the verified MP4 was in our storage, beside the old system's model (a
browser polling every 10 s, which then shows the provider's own, expiring link).

    python bench/latency.py [-n 20] [--size-mb 20]

Goals (issue 4): callback path p95 ≤ 1 s for a 20 MB MP4 on loopback; poll path ≤ the next poll + 1 s.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime

import httpx

from veo31.emulators.kie import create_kie_emulator
from veo31.emulators.serve import ServerThread

KEY = "bench-key-0000000000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(emulator: str, data_dir: str, port: int, callbacks: bool) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIE_", "VEO31_"))}
    env.update(
        KIE_API_KEY=KEY,
        KIE_BASE_URL=emulator,
        KIE_UPLOAD_BASE_URL=emulator,
        VEO31_DATA_DIR=data_dir,
        VEO31_PORT=str(port),
    )
    if callbacks:
        env["VEO31_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "veo31", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("veo31 serve did not start")


def run(mode: str, count: int, emulator: ServerThread, control: httpx.Client) -> list[dict[str, float]]:
    control.post("/_emulator/reset").raise_for_status()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix=f"veo31-bench-{mode}-") as data_dir:
        server = start_server(emulator.url, data_dir, port, callbacks=mode == "callbacks")
        try:
            api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
            ids = []
            for _ in range(count):
                ids.append(api.post("/v1/generations", json={}).json()["id"])
                time.sleep(random.uniform(0.0, 0.5))
            done = {}
            deadline = time.monotonic() + 300
            while len(done) < len(ids) and time.monotonic() < deadline:
                for generation_id in ids:
                    if generation_id not in done:
                        body = api.get(f"/v1/generations/{generation_id}").json()
                        if body["status"] in ("completed", "failed"):
                            done[generation_id] = body
                time.sleep(0.2)
        finally:
            server.terminate()
            server.wait(30)
    tasks = {task["taskId"]: task for task in control.get("/_emulator/state").json()["tasks"]}
    rows = []
    for body in done.values():
        if body["status"] != "completed":
            continue
        history = {change["status"]: iso(change["at"]) for change in body["history"]}
        finished = tasks[body["provider_task_id"]]["completedAt"]
        rows.append(
            {
                "latency": history["completed"] - finished,
                "next_poll": next_poll(history["submitted"], finished),
                "bytes": body["video"]["bytes"],
            }
        )
    return rows


def iso(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def next_poll(submitted: float, finished: float, first: float = 10.0, ceiling: float = 30.0) -> float:
    """When the poll-only wait next asks the provider after `finished` (the workflow's default schedule)."""
    at, delay = submitted, first
    while at + delay < finished:
        at, delay = at + delay, min(ceiling, delay * 1.5)
    return at + delay - finished


def old_model(count: int, interval: float = 10.0) -> list[float]:
    """The old page: a browser asking every 10 s from some moment; the video 'plays' when the next ask sees it."""
    rng = random.Random(7)
    return [interval - rng.uniform(0, interval) for _ in range(max(count, 1000))]


def percentiles(values: list[float]) -> str:
    if not values:
        return "no data"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"p50 {statistics.median(ordered):6.2f} s   p95 {p95:6.2f} s   max {ordered[-1]:6.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=20, help="generations per mode")
    parser.add_argument("--size-mb", type=float, default=20.0, help="size of each result MP4")
    args = parser.parse_args()
    random.seed(20261125)
    app = create_kie_emulator(
        generation_seconds=2.0,
        generation_jitter_seconds=20.0,
        clip_seconds=2.0,
        result_min_bytes=int(args.size_mb * 1024 * 1024),
        api_keys=[KEY],
    )
    with ServerThread(app) as emulator, httpx.Client(base_url=emulator.url, timeout=60) as control:
        results = {mode: run(mode, args.n, emulator, control) for mode in ("callbacks", "polling")}
    size = statistics.mean(row["bytes"] for rows in results.values() for row in rows) / 1024 / 1024
    print(f"\n{args.n} generations per mode, {size:.1f} MB MP4s, emulator finish → verified MP4 in our storage\n")
    print(f"  with callbacks        {percentiles([r['latency'] for r in results['callbacks']])}")
    polling = results["polling"]
    print(f"  polling only          {percentiles([r['latency'] for r in polling])}")
    print(f"    minus the next poll {percentiles([r['latency'] - r['next_poll'] for r in polling])}")
    print(f"  old page (10 s poll)  {percentiles(old_model(args.n))}   (model; shows the provider's expiring link)")
    callbacks_p95 = sorted(r["latency"] for r in results["callbacks"])[int(0.95 * (len(results["callbacks"]) - 1))]
    worst_extra = max(r["latency"] - r["next_poll"] for r in polling)
    print(f"\n  goal: callbacks p95 ≤ 1 s → {callbacks_p95:.2f} s {'met' if callbacks_p95 <= 1 else 'NOT met'}")
    print(f"  goal: polling ≤ next poll + 1 s → worst +{worst_extra:.2f} s {'met' if worst_extra <= 1 else 'NOT met'}")
    old_p50 = statistics.median(old_model(args.n))
    new_p50 = statistics.median(r["latency"] for r in results["callbacks"])
    print(f"  ratio old-page p50 / callbacks p50: {old_p50 / new_p50:.1f}×")


if __name__ == "__main__":
    main()
