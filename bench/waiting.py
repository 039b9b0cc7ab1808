"""What generations cost while they only wait for the provider: the server's CPU with N generations (default 400)
waiting at once, at two `VEO31_WAKE_INTERVAL_SECONDS` (default 0.1 and 0.3), side by side in one run.

On SQLite, DBOS's notification listener looks for a callback once per waiting workflow per wake interval; that,
and the queues' polling, is all a waiting generation costs. The Kie emulator takes an hour per video and the first
provider poll is pushed out of the window, so nothing else runs while the CPU is read.

    python bench/waiting.py [-n 400] [--wake 0.1 0.3] [--seconds 15]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from common import Emulator, ServeProcess, cpu_seconds, listed, open_kie_queue


def waiting_cpu(emulator: Emulator, data_dir: Path, count: int, wake: float, seconds: float) -> float:
    """Share of one core the server uses while `count` generations wait."""
    env = {
        **open_kie_queue(count),
        "VEO31_WAKE_INTERVAL_SECONDS": str(wake),
        "VEO31_FIRST_POLL_SECONDS": "3600",
        "VEO31_MAX_POLL_SECONDS": "3600",
    }
    with ServeProcess(emulator.url, data_dir, env) as server, httpx.Client(base_url=server.url, timeout=120) as api:
        with ThreadPoolExecutor(8) as pool:
            answers = pool.map(lambda n: api.post("/v1/generations", json={"product_name": f"Item {n}"}), range(count))
            for answer in answers:
                answer.raise_for_status()
        deadline = time.monotonic() + 600
        while sum(1 for _ in listed(api, status="generating")) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"not all {count} generations reached 'generating' within 10 minutes")
            time.sleep(1.0)
        time.sleep(2.0)  # the last submissions' steps settle
        before, begun = cpu_seconds(server.pid), time.perf_counter()
        time.sleep(seconds)
        return (cpu_seconds(server.pid) - before) / (time.perf_counter() - begun)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=400)
    parser.add_argument("--wake", type=float, nargs=2, default=[0.1, 0.3])
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    shares = []
    with tempfile.TemporaryDirectory(prefix="veo31-bench-waiting-") as folder:
        root = Path(folder)
        with Emulator(root / "emulator.log") as emulator:
            emulator.configure(generation_seconds=3600.0, clip_seconds=1.0, render_photos=False, rate_limit=1_000_000)
            for index, wake in enumerate(args.wake):
                shares.append(waiting_cpu(emulator, root / f"data-{index}", args.n, wake, args.seconds))
    print(f"\n{args.n} generations waiting for the Kie emulator, SQLite, 2 cores, CPU over {args.seconds:g} s\n")
    for wake, share in zip(args.wake, shares, strict=True):
        print(f"  wake interval {wake:g} s   server CPU {share * 100:5.1f}% of a core")
    print(f"  ratio {args.wake[0]:g} s / {args.wake[1]:g} s            {shares[0] / shares[1]:5.2f}×")


if __name__ == "__main__":
    main()
