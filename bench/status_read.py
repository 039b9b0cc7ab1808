"""A generation's status read while the server's interpreter is busy, side by side in one run.

What a status read costs under load is mostly waiting: each query hands the interpreter's lock back while SQLite
works and waits for it again after, behind whatever else the server is doing. This bench reads the same
generation (with a 1080p rendition and two deliverables, each with its history and photo) from a SQLite file of
10,000 generations, on a reader thread like the server's, while `--busy` threads run Python without pause (the
pipeline's steps, the import of a catalogue), and compares:

- the family read (`store.generations.get_with_children`): the generation and its children in one query, then
  their histories and photos — three queries;
- the same answer read apart (`get_generation`, `upgrades_of`, `deliverables_of`): five queries.

Each is timed in alternation, p50 / p99 printed with their ratio; then a photo re-encoded into a BytesIO (Pillow
holds the lock for each chunk it encodes) and by intake's `encoded`, into a file in memory (Pillow lets the lock
go), each timed by how late a thread asking to wake every millisecond wakes meanwhile.

    python bench/status_read.py [--reads 200] [--busy 2]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from sqlalchemy import Engine

from common import percentile
from veo31.domain import Generation, GenerationSpec, ReferenceImage, Status
from veo31.media.intake import encoded
from veo31.store import changes, generations as store
from veo31.store.db import create_db_engine, migrate

GENERATIONS = 10_000


def fill(engine: Engine) -> str:
    photo = ReferenceImage("ab" * 32, "image/jpeg", 1024, 1024, "refs/photo.jpg", "https://shop.example/p.jpg")
    spec = GenerationSpec(product_name="Bottle")
    last = ""
    for number in range(GENERATIONS):
        made, _ = store.create_generation(engine, spec=spec, references=[photo], provider="kie", mode="image")
        last = made.id
        if number % 2:
            changes.record_status(engine, made.id, Status.GENERATING)
    rendition, _ = store.create_generation(
        engine, spec=spec, references=[photo], provider="kie", mode="image", upgrade_of=last
    )
    changes.record_status(engine, rendition.id, Status.GENERATING)
    for preset in ("square", "vertical"):
        store.create_generation(
            engine, spec=spec, references=[photo], provider="local", mode="image", deliverable=(last, preset)
        )
    return last


def apart(engine: Engine, generation_id: str) -> tuple[Generation, list[Generation], list[Generation]]:
    generation = store.get_generation(engine, generation_id)
    renditions = store.upgrades_of(engine, [generation_id])[generation_id]
    return generation, renditions, store.deliverables_of(engine, [generation_id])[generation_id]


class Busy:
    """Threads running Python without pause: the interpreter's lock is always wanted."""

    def __init__(self, count: int) -> None:
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._spin, daemon=True) for _ in range(count)]

    def _spin(self) -> None:
        total = 0
        while not self._stop.is_set():
            total += sum(range(200))

    def __enter__(self) -> Busy:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def timed(read: Callable[[], object], into: list[float]) -> None:
    started = time.perf_counter()
    read()
    into.append(time.perf_counter() - started)


def late_timer(work: Callable[[], object], rounds: int) -> list[float]:
    """How late a thread asking to wake every 1 ms wakes while `work` runs `rounds` times on another."""
    lateness: list[float] = []
    done = threading.Event()

    def tick() -> None:
        while not done.is_set():
            asked = time.perf_counter()
            time.sleep(0.001)
            lateness.append(time.perf_counter() - asked - 0.001)

    ticker = threading.Thread(target=tick)
    ticker.start()
    for _ in range(rounds):
        work()
    done.set()
    ticker.join()
    return lateness


def encode_into_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=int, default=200, help="reads of each kind")
    parser.add_argument("--busy", type=int, default=2, help="threads running Python beside the reads")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="veo31-bench-status-") as scratch:
        engine = create_db_engine(f"sqlite:///{Path(scratch) / 'veo31.db'}")
        migrate(engine)
        generation_id = fill(engine)
        family, separate = store.get_with_children(engine, generation_id), apart(engine, generation_id)
        assert family == separate, "both reads give the same answer"
        times: dict[str, list[float]] = {"family (3 queries)": [], "apart (5 queries)": []}
        with Busy(args.busy):
            for _ in range(args.reads):
                timed(lambda: store.get_with_children(engine, generation_id), times["family (3 queries)"])
                timed(lambda: apart(engine, generation_id), times["apart (5 queries)"])
        engine.dispose()
    photo = Image.effect_noise((2048, 2048), 60).convert("RGB")  # a large product photo
    encodes = {
        "into a BytesIO": late_timer(lambda: encode_into_bytes(photo), 20),
        "into a file in memory": late_timer(lambda: encoded(photo, format="JPEG", quality=95), 20),
    }
    print(f"a status read of 1 of {GENERATIONS:,} generations, {args.busy} threads running Python beside it")
    for name, values in times.items():
        p50, p99 = (percentile(values, share) * 1000 for share in (0.5, 0.99))
        print(f"  {name:<20} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
    (_, family_times), (_, apart_times) = times.items()
    for share in (0.5, 0.99):
        ratio = percentile(apart_times, share) / percentile(family_times, share)
        print(f"  apart / family at p{share * 100:g}: {ratio:.2f}×")
    print("a 2048×2048 photo re-encoded 20 times, a 1 ms timer's lateness on another thread meanwhile")
    for name, lateness in encodes.items():
        print(f"  {name:<22} p50 {percentile(lateness, 0.5) * 1000:6.2f} ms  max {max(lateness) * 1000:6.2f} ms")


if __name__ == "__main__":
    main()
