"""DBOS alone: the bookkeeping of veo31's generation workflow with no work inside it — the durability floor.

N workflows of the shape of veo31's `veo31.generation.v2` (begin — prepare, submit and start waiting —, a wake-up
message received, look — check, and retrieve —: two steps and one `recv`; today's `v3` adds the quality gate's), each
step empty, started through a DBOS queue and
woken by `DBOS.send` as a provider's callback wakes veo31's. DBOS is configured as veo31 configures it (SQLite
checkpoints in a write-ahead log, 16 executor threads). No HTTP, no application database, no downloads: what is
left is what checkpointing every step costs on this machine.

    python bench/dbos_alone.py [-n 500]

`bench/pipeline.py` runs it beside the floor and veo31, in its own process (DBOS is one per process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

from dbos import DBOS, DBOSConfig

from veo31.pipeline.lifecycle import EXECUTOR_THREADS
from veo31.store.db import write_ahead_log


@DBOS.step()
async def step(name: str) -> str:
    return name


@DBOS.workflow()
async def generation(number: int) -> str:
    await step("begin")
    await DBOS.recv_async("wake", timeout_seconds=60)
    return await step("look")


async def run(count: int, folder: Path) -> dict[str, float]:
    url = f"sqlite:///{folder / 'dbos.db'}"
    await asyncio.to_thread(write_ahead_log, url)
    DBOS(
        config=DBOSConfig(
            name="dbos-alone", system_database_url=url, max_executor_threads=EXECUTOR_THREADS, log_level="WARNING"
        )
    )
    DBOS.launch()
    queue = await DBOS.register_queue_async("generations", worker_concurrency=count, polling_interval_sec=0.2)
    cpu, begun = time.process_time(), time.perf_counter()
    handles = [await queue.enqueue_async(generation, number) for number in range(count)]
    for handle in handles:
        await DBOS.send_async(handle.workflow_id, {"hint": "succeeded"}, "wake")
    results = [await handle.get_result() for handle in handles]
    wall, cpu = time.perf_counter() - begun, time.process_time() - cpu
    DBOS.destroy()
    if results != ["look"] * count:
        raise RuntimeError(f"{sum(r != 'look' for r in results)} workflows did not finish")
    return {"wall": wall, "cpu": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (for bench/pipeline.py)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="veo31-bench-dbos-") as folder:
        figures = asyncio.run(run(args.n, Path(folder)))
    if args.json:
        print(json.dumps(figures))
        return
    rate = args.n / figures["wall"]
    print(f"DBOS alone, {args.n} workflows of veo31's shape on SQLite ({os.cpu_count()} cores)")
    print(f"  {rate:.1f} workflows/s ({figures['wall']:.1f} s), {figures['cpu'] / args.n * 1000:.0f} ms CPU each")


if __name__ == "__main__":
    main()
