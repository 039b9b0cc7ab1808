"""The pipeline's overhead: N generations (default 500) through veo31's HTTP API, against the floor — a bare asyncio
script making the same provider calls (generate, record-info until done, download the MP4, write it to a file)
with no durability, no verification and no database.

A third figure, for scale: DBOS alone (`bench/dbos_alone.py`) — N workflows of veo31's shape with empty steps,
what checkpointing costs before veo31 does any work.

Both run against the same Kie emulator (its own process; generation time 0, 1 s clips, no rate limit), one after
the other in one run. veo31 is a real `veo31 serve` (SQLite, the data folder, callbacks on) with its Kie queue
opened to N at once, so all N are in flight together; its memory (with its media processes) is sampled every 50 ms.

    python bench/pipeline.py [-n 500] [--database-url postgresql://…] [--quality-gate off report]

veo31 runs once without the quality gate (what the floor does: store the file) and once with it at its default
(`report`: every video checked as well — here the technical checks, the clips being text-only), side by side.

With `--database-url` (an empty PostgreSQL database) veo31 keeps its tables there, and DBOS its checkpoints in a
database beside it, instead of SQLite files.

Goals (issue 9): veo31's throughput ≥ 0.5× the floor's; 500 in flight with the server's memory ≤ 300 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from common import (
    KEY,
    Emulator,
    MemoryWatch,
    ServeProcess,
    cpu_seconds,
    finished,
    iso,
    memory_mb,
    open_kie_queue,
    percentile,
)


async def floor(emulator_url: str, count: int, folder: Path) -> tuple[float, list[float]]:
    """The same provider work with nothing around it: (wall seconds, seconds per generation)."""
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    headers = {"Authorization": f"Bearer {KEY}", "User-Agent": "floor/1"}
    async with httpx.AsyncClient(base_url=emulator_url, headers=headers, timeout=120, limits=limits) as client:

        async def one(number: int) -> float:
            started = time.perf_counter()
            body = {"prompt": f"A product on a plain background, take {number}", "model": "veo3_fast"}
            answer = (await client.post("/api/v1/veo/generate", json=body)).json()
            task_id = answer["data"]["taskId"]
            while True:
                record = (await client.get("/api/v1/veo/record-info", params={"taskId": task_id})).json()["data"]
                if record["successFlag"] == 1:
                    break
                await asyncio.sleep(0.05)
            url = record["response"]["resultUrls"][0]
            with open(folder / f"{number}.mp4", "wb") as sink:  # noqa: ASYNC230 - the floor writes as veo31 does
                async with client.stream("GET", url) as response:
                    async for chunk in response.aiter_bytes():
                        sink.write(chunk)
            return time.perf_counter() - started

        begun = time.perf_counter()
        each = await asyncio.gather(*(one(n) for n in range(count)))
        return time.perf_counter() - begun, list(each)


def through_veo31(server: ServeProcess, count: int) -> tuple[float, list[float], list[float]]:
    """(wall seconds, seconds per generation from its creation to its verified MP4, memory samples in MB)."""
    with (
        MemoryWatch(server.pid, every=0.05) as memory,
        httpx.Client(base_url=server.url, timeout=120) as api,
        ThreadPoolExecutor(16) as pool,
    ):
        begun, begun_at = time.perf_counter(), time.time()
        ids = list(
            pool.map(
                lambda n: api.post("/v1/generations", json={"product_name": f"Item {n}", "seed": n}).json()["id"],
                range(count),
            )
        )
        created = time.perf_counter() - begun
        # Looking rarely: paging through hundreds of generations is work for the server, and the end is read from
        # the generations' own completion times, so how often the bench looks does not change the figure.
        bodies = finished(api, set(ids), pause=5.0)
    failed = [b for b in bodies.values() if b["status"] != "completed"]
    if len(bodies) < count or failed:
        raise RuntimeError(f"{count - len(bodies)} unfinished, {len(failed)} not completed: {failed[:1]}")
    each, ends = [], []
    for body in bodies.values():
        at = {change["status"]: iso(change["at"]) for change in body["history"]}
        each.append(at["completed"] - iso(body["created_at"]))
        ends.append(at["completed"])
    wall = max(ends) - begun_at
    print(f"  (veo31 took {created:.1f} s to accept the {count} requests)")
    return wall, each, memory.samples


def dbos_alone(count: int) -> dict[str, float]:
    """{"wall", "cpu"} seconds of `bench/dbos_alone.py` for `count` workflows, in a process of its own."""
    script = Path(__file__).with_name("dbos_alone.py")
    done = subprocess.run([sys.executable, str(script), "-n", str(count), "--json"], capture_output=True, check=True)
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--database-url", help="an empty PostgreSQL database for veo31 (default: SQLite files)")
    parser.add_argument(
        "--quality-gate",
        nargs="+",
        default=["off", "report"],
        choices=["off", "report"],
        help="veo31 runs, one per setting, side by side (default: without the quality gate, then with it)",
    )
    args = parser.parse_args()
    if args.database_url and len(args.quality_gate) > 1:
        parser.error("with --database-url give one --quality-gate: each run needs the database empty")
    n = args.n
    with tempfile.TemporaryDirectory(prefix="veo31-bench-pipeline-") as folder:
        root = Path(folder)
        with Emulator(root / "emulator.log") as emulator:
            emulator.configure(generation_seconds=0.0, clip_seconds=1.0, render_photos=False, rate_limit=1_000_000)
            (root / "floor").mkdir()
            floor_wall, floor_each = asyncio.run(floor(emulator.url, n, root / "floor"))
            runs = {}
            for gate in args.quality_gate:
                env = {**open_kie_queue(n), "VEO31_QUALITY_GATE": gate}
                if args.database_url:
                    env["VEO31_DATABASE_URL"] = args.database_url
                with ServeProcess(emulator.url, root / f"data-{gate}", env) as server:
                    idle = memory_mb(server.pid)
                    cpu_before = cpu_seconds(server.pid)
                    wall, each, memory = through_veo31(server, n)
                    runs[gate] = Run(wall, each, memory, idle, (cpu_seconds(server.pid) - cpu_before) / n)
            generate_calls = emulator.state()["calls"].get("generate", 0)
    alone = dbos_alone(n)
    where = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\n{n} generations on {where}, Kie emulator on loopback (generation time 0, 1 s clips), 2 cores\n")
    print(f"  floor (bare asyncio, no durability)  {n / floor_wall:6.1f} generations/s   ({floor_wall:.1f} s)")
    for gate, run in runs.items():
        name = f"veo31 serve, quality gate {gate}"
        print(f"  {name:<37}{n / run.wall:6.1f} generations/s   ({run.wall:.1f} s)")
        print(f"    ratio to the floor                 {floor_wall / run.wall:6.2f}×   (goal ≥ 0.5×)")
    print(
        f"  for scale: DBOS alone (empty steps)  {n / alone['wall']:6.1f} workflows/s     ({alone['wall']:.1f} s, "
        f"{alone['cpu'] / n * 1000:.0f} ms CPU each)"
    )
    f50, f95 = statistics.median(floor_each), percentile(floor_each, 0.95)
    print(f"  per generation: floor p50 {f50:.2f} s p95 {f95:.2f} s")
    for gate, run in runs.items():
        o50, o95 = statistics.median(run.each), percentile(run.each, 0.95)
        overhead = f"overhead p50 {o50 - f50:+.2f} s, p95 {o95 - f95:+.2f} s"
        print(f"  gate {gate}: veo31 p50 {o50:.2f} s p95 {o95:.2f} s; {overhead}")
        print(f"    server CPU: {run.cpu_each * 1000:.0f} ms per generation (user + system, with its media processes)")
        print(
            f"    memory (PSS, with its media processes): {run.idle:.0f} MB idle, peak {max(run.memory):.0f} MB with "
            f"{n} in flight (goal ≤ 300 MB)"
        )
    print(f"  generate calls at the emulator: {generate_calls} for {(1 + len(runs)) * n} generations (floor + veo31)")


@dataclass
class Run:
    wall: float
    each: list[float]
    memory: list[float]
    idle: float
    cpu_each: float


if __name__ == "__main__":
    main()
