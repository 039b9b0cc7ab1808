"""Retrieval: how fast does veo31 take a finished 50 MB MP4 (stream, verify by decoding, poster, store) compared
with `curl -o` of the very same URL — one at a time, and 20 at once — and does the API stay quick meanwhile?

A real `veo31 serve` and the Kie emulator (its own process) on loopback; callbacks on, generation time 0, so
each generation goes straight to retrieval. Our time for one video is its history's `retrieving → completed`;
curl's is the wall time of `curl -s -o FILE URL` on the same provider link. While the 20 retrieve at once, a
reader asks `GET /v1/generations/{id}` every 20 ms, and the server's memory is sampled every 20 ms: the PSS of
the server and its media processes (the ones that stream and decode) added up.

    python bench/retrieve.py [--size-mb 50] [--single 5] [--parallel 20]

Goals (issue 9): ≥ 0.5× curl's throughput; 20 at once add ≤ 30 MB of memory; status reads p99 ≤ 50 ms meanwhile.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from common import Emulator, MemoryWatch, ServeProcess, finished, iso, memory_mb, percentile


def retrieval_seconds(body: dict) -> float:
    at = {change["status"]: iso(change["at"]) for change in body["history"]}
    return at["completed"] - at["retrieving"]


def wait_completed(api: httpx.Client, ids: list[str]) -> list[dict]:
    done = finished(api, set(ids), pause=0.5, timeout=600)  # gently: not the load the status reads measure
    problems = [
        f"{gid} {body['status']}: {body.get('error')}" for gid, body in done.items() if body["status"] != "completed"
    ]
    if len(done) < len(ids) or problems:
        raise RuntimeError(f"{len(done)} of {len(ids)} ended; {problems[:1]}")
    return [done[gid] for gid in ids]


def curl(url: str, target: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["curl", "-s", "-f", "-o", str(target), url], check=True)
    return time.perf_counter() - started


class Watch:
    """Status reads every 20 ms (their answer times) and the server's memory every 20 ms, until stopped.

    The reader runs in a process of its own, so that no wait for this interpreter's lock behind the bench's own
    work (paging through the list, sampling memory) can be counted as the server's."""

    def __init__(self, api_url: str, generation_id: str, pid: int) -> None:
        self.answers: list[tuple[float, float]] = []  # (wall-clock start, seconds)
        self.memory = MemoryWatch(pid, every=0.02)
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._found: multiprocessing.Queue[list[tuple[float, float]]] = context.Queue()
        self._reader = context.Process(target=read_status, args=(api_url, generation_id, self._stop, self._found))

    def __enter__(self) -> Watch:
        self.memory.__enter__()
        self._reader.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self.answers = self._found.get(timeout=60)
        self._reader.join(30)
        self.memory.__exit__()


def read_status(api_url: str, generation_id: str, stop: Any, found: Any) -> None:
    answers = []
    with httpx.Client(base_url=api_url, timeout=10) as client:
        while not stop.is_set():
            at, started = time.time(), time.perf_counter()
            client.get(f"/v1/generations/{generation_id}").raise_for_status()
            answers.append((at, time.perf_counter() - started))
            stop.wait(0.02)
    found.put(answers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=float, default=50.0)
    parser.add_argument("--single", type=int, default=5, help="videos retrieved one at a time")
    parser.add_argument("--parallel", type=int, default=20, help="videos retrieved at once")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE", help="for veo31 serve")
    args = parser.parse_args()
    server_env = dict(item.split("=", 1) for item in args.server_env)
    if shutil.which("curl") is None:
        sys.exit("curl is needed: apt-get install curl")
    size = int(args.size_mb * 1024 * 1024)
    with tempfile.TemporaryDirectory(prefix="veo31-bench-retrieve-") as folder:
        root = Path(folder)
        with Emulator(root / "emulator.log") as emulator:
            emulator.configure(
                generation_seconds=0.0, result_min_bytes=size, clip_seconds=2.0, render_photos=False, rate_limit=10_000
            )
            with ServeProcess(emulator.url, root / "data", {"VEO31_KIE_RATE_LIMIT": "10000", **server_env}) as server:
                api = httpx.Client(base_url=server.url, timeout=60)
                # One at a time: ours, then curl on the same link.
                ours_one, curl_one = [], []
                warm = wait_completed(api, [api.post("/v1/generations", json={}).json()["id"]])[0]
                curl(warm["provider_video_url"], root / "warm.mp4")
                for number in range(args.single):
                    body = wait_completed(api, [api.post("/v1/generations", json={"seed": number}).json()["id"]])[0]
                    ours_one.append(retrieval_seconds(body))
                    curl_one.append(curl(body["provider_video_url"], root / "curl.mp4"))
                # Twenty at once: submitted together, finishing together after 3 s, so that the baseline is taken
                # with all of them in flight and what is measured after it is the retrieval alone.
                emulator.configure(generation_seconds=3.0)
                idle = []
                for _ in range(100):
                    begun = time.perf_counter()
                    api.get(f"/v1/generations/{warm['id']}").raise_for_status()
                    idle.append(time.perf_counter() - begun)
                ids = [api.post("/v1/generations", json={"seed": 1000 + n}).json()["id"] for n in range(args.parallel)]
                while any(api.get(f"/v1/generations/{i}").json()["status"] != "generating" for i in ids):
                    time.sleep(0.05)
                baseline = statistics.median(memory_mb(server.pid) for _ in range(10))
                with Watch(server.url, warm["id"], server.pid) as watch:
                    bodies = wait_completed(api, ids)
                first = min(iso(next(c["at"] for c in b["history"] if c["status"] == "retrieving")) for b in bodies)
                last = max(iso(b["history"][-1]["at"]) for b in bodies)
                ours_many = last - first
                links = [b["provider_video_url"] for b in bodies]
                with ThreadPoolExecutor(len(links)) as pool:
                    begun = time.perf_counter()
                    list(pool.map(lambda pair: curl(pair[1], root / f"c{pair[0]}.mp4"), enumerate(links)))
                    curl_many = time.perf_counter() - begun
                api.close()
    mb = size / 1024 / 1024
    one_ours, one_curl = statistics.median(ours_one), statistics.median(curl_one)
    print(f"\n{mb:.0f} MB MP4s from the Kie emulator on loopback (2 cores)\n")
    print(f"  one at a time  veo31 (stream+verify+poster+store) {mb / one_ours:7.0f} MB/s   (median {one_ours:.3f} s)")
    print(f"                 curl -o                            {mb / one_curl:7.0f} MB/s   (median {one_curl:.3f} s)")
    print(f"                 ratio veo31 / curl                 {one_curl / one_ours:7.2f}×   (goal ≥ 0.5×)")
    n = args.parallel
    print(f"  {n} at once      veo31                              {n * mb / ours_many:7.0f} MB/s   ({ours_many:.2f} s)")
    print(f"                 curl -o ×{n}                        {n * mb / curl_many:7.0f} MB/s   ({curl_many:.2f} s)")
    print(f"                 ratio veo31 / curl                 {curl_many / ours_many:7.2f}×   (goal ≥ 0.5×)")
    peak = max(watch.memory.samples)
    added = peak - baseline
    print(
        f"  server memory {baseline:.0f} MB with the {n} in flight, peak {peak:.0f} MB while they were "
        f"retrieved: +{added:.0f} MB (goal ≤ 30 MB)"
    )
    streaming = [seconds for at, seconds in watch.answers if first <= at <= last]
    p50, p99 = percentile(streaming, 0.50), percentile(streaming, 0.99)
    print(
        f"  status reads   {len(streaming)} while the {n} streamed: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
        f"max {max(streaming) * 1000:.1f} ms (goal p99 ≤ 50 ms); idle p50 {statistics.median(idle) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
