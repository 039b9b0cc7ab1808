"""Scale-out: does a second worker double the capacity? On PostgreSQL, one API process (`veo31 serve --no-worker`)
and 1, then 2, `veo31 worker` processes; each worker may have 10 Kie generations in flight and the emulator takes
a few seconds per video, so capacity — not this 2-core machine's CPU — is what a second worker adds.

Both runs in one invocation, on a throwaway PostgreSQL cluster (Debian's `postgresql`, started like the tests do:
tests/databases.py), each on a fresh database, against the Kie emulator in its own process, callbacks on.

    python bench/scale.py [-n 200] [--generation-seconds 4] [--concurrency 10]

Goals (issue 9): 200 generations finish ≥ 1.7× faster with 2 workers; both workers take a fair share; zero
duplicate submits.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg

from common import Emulator, ServeProcess, finished, free_port


def run(emulator: Emulator, settings: dict, workers: int, count: int, concurrency: int, root: Path) -> dict:
    from tests.databases import cluster  # after common.py has put the repository on the path

    database = cluster().create_database()
    port = free_port()
    shared = {
        "VEO31_DATABASE_URL": database,
        "VEO31_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "VEO31_LOCAL_DISABLED": "true",
        "VEO31_KIE_CONCURRENCY": str(concurrency),
        "VEO31_KIE_RATE_LIMIT": "100000",
        "VEO31_KIE_RATE_PERIOD": "1",
    }
    emulator.reset()
    emulator.configure(**settings)
    data = root / f"data-{workers}"
    with contextlib.ExitStack() as stack:
        api = stack.enter_context(
            ServeProcess(emulator.url, data, {**shared, "VEO31_EXECUTOR_ID": "api"}, args=("--no-worker",), port=port)
        )
        for number in range(1, workers + 1):
            env = {**shared, "VEO31_EXECUTOR_ID": f"worker-{number}"}
            stack.enter_context(ServeProcess(emulator.url, data, env, command="worker"))
        client = stack.enter_context(httpx.Client(base_url=api.url, timeout=60))
        begun = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            ids = set(
                pool.map(
                    lambda n: client.post("/v1/generations", json={"product_name": f"Item {n}"}).json()["id"],
                    range(count),
                )
            )
        statuses = {gid: body["status"] for gid, body in finished(client, ids, pause=0.5).items()}
        wall = time.perf_counter() - begun
    state = emulator.state()
    with psycopg.connect(f"{database}_dbos_sys") as connection:
        rows = connection.execute(
            # Both generation shapes (see pipeline/workflow.py); a share counted under neither would read as 0.
            "SELECT executor_id, count(*) FROM dbos.workflow_status"
            " WHERE name IN ('veo31.generation', 'veo31.generation.v2', 'veo31.generation.v3') GROUP BY 1"
        ).fetchall()
    return {
        "wall": wall,
        "completed": sum(1 for status in statuses.values() if status == "completed"),
        "shares": {str(executor): int(n) for executor, n in rows},
        "generate_calls": state["calls"].get("generate", 0),
        "tasks": len(state["tasks"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--generation-seconds", type=float, default=4.0)
    parser.add_argument("--concurrency", type=int, default=10, help="Kie generations in flight per worker")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="veo31-bench-scale-") as folder,
        Emulator(Path(folder) / "emulator.log") as emulator,
    ):
        settings = {
            "generation_seconds": args.generation_seconds,
            "clip_seconds": 1.0,
            "render_photos": False,
            "rate_limit": 100_000,
        }
        results = {
            workers: run(emulator, settings, workers, args.n, args.concurrency, Path(folder)) for workers in (1, 2)
        }
    print(
        f"\n{args.n} generations on PostgreSQL, API process + N workers, {args.concurrency} in flight per worker, "
        f"{args.generation_seconds:.0f} s per video at the emulator, 2 cores\n"
    )
    for workers, result in results.items():
        shares = ", ".join(f"{executor} {n}" for executor, n in sorted(result["shares"].items()))
        print(
            f"  {workers} worker{'s' if workers > 1 else ' '}  {result['wall']:6.1f} s  "
            f"{args.n / result['wall']:5.2f} generations/s  completed {result['completed']}/{args.n}  "
            f"generate calls {result['generate_calls']} (tasks {result['tasks']})  share: {shares}"
        )
    speedup = results[1]["wall"] / results[2]["wall"]
    print(f"\n  speed-up with 2 workers: {speedup:.2f}× (goal ≥ 1.7×)")
    two = results[2]["shares"]
    fair = min(two.values()) / max(two.values()) if len(two) == 2 else 0.0
    print(f"  fairness (smaller share / larger share): {fair:.2f}")
    for workers, result in results.items():
        counted = sum(result["shares"].values())
        if counted != args.n:
            print(f"  ! with {workers} worker(s), DBOS names an executor for {counted} of {args.n} generations")
    duplicates = sum(r["generate_calls"] - args.n for r in results.values())
    print(f"  duplicate submits: {duplicates} (goal 0)")


if __name__ == "__main__":
    main()
