"""A catalogue at scale: N products (default 10,000) in a synthetic Shopify export over local images, posted as one
batch to a real `veo31 serve` (SQLite, its own process) against the Kie emulator (its own process), with the Kie
queue at Kie's capacity of 100 tasks at once and a webhook receiver registered for every event.

What it measures, in one run, each beside its goal (issue 27):
- the time to import the export and start (queue) every product, and the server's peak memory with them all
  queued (with its media processes) — goal ≤ 400 MB;
- while they run: a generation's status read (`GET /v1/generations/{id}`), the batch's (`GET /v1/batches/{id}`),
  and the page's gallery list (`GET /v1/generations?include_upgrades=false&limit=12`), each p50/p99 — goals:
  status p99 ≤ 50 ms, gallery p99 ≤ 150 ms;
- a single generation made mid-run: seconds from its request to its submission to Kie — goal ≤ 5 s;
- webhook deliveries: for every event received, the delay from the change (the event's `at`) to its arrival at
  a healthy receiver — goal p95 ≤ 2 s; and that every product that finished in the window was announced.

The run stops after `--window` seconds of generating (the catalogue does not need to finish for these figures).

    python bench/catalogue.py [-n 10000] [--window 120]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import multiprocessing
import tempfile
import threading
import time
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path

import httpx
from PIL import Image, ImageDraw
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from common import Emulator, MemoryWatch, ServeProcess, open_kie_queue, percentile
from veo31.emulators.serve import ServerThread

PHOTOS = 24
HEADER = ["Handle", "Title", "Vendor", "Variant SKU", "Variant Price", "Image Src", "Image Position", "Status"]


def photo(number: int) -> bytes:
    """A product photo: a coloured bottle on white, a different colour for each number."""
    image = Image.new("RGB", (640, 640), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    colour = ((number * 53) % 200 + 30, (number * 97) % 200 + 30, (number * 31) % 200 + 30)
    draw.rounded_rectangle((250, 140, 390, 560), radius=40, fill=colour)
    draw.rectangle((295, 90, 345, 150), fill=(60, 60, 60))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


class Host:
    """The shop's image host and a healthy webhook receiver, in this process."""

    def __init__(self) -> None:
        self.photos = [photo(number) for number in range(PHOTOS)]
        self.arrivals: list[tuple[float, dict]] = []
        self.lock = threading.Lock()

    async def image(self, request: Request) -> Response:
        return Response(self.photos[int(request.path_params["number"]) % PHOTOS], media_type="image/jpeg")

    async def hook(self, request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        with self.lock:
            self.arrivals.append((time.time(), body))
        return JSONResponse({})

    async def received(self, request: Request) -> JSONResponse:
        with self.lock:
            return JSONResponse(self.arrivals)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/img/{number}.jpg", self.image), Route("/hook", self.hook, methods=["POST"]),
                                 Route("/received", self.received)])  # fmt: skip


def _serve_host(ready: Connection) -> None:
    with ServerThread(Host().app()) as site:
        ready.send(site.url)
        ready.recv()  # until the bench is done


class HostProcess:
    """The shop's image host and the receiver in a process of their own: in the bench's, their ~40 answers a
    second held its interpreter lock, and the timed reads measured that wait as the server's."""

    def __init__(self) -> None:
        spawn = multiprocessing.get_context("spawn")
        self._bench, child = spawn.Pipe()
        self._process = spawn.Process(target=_serve_host, args=(child,), daemon=True)

    def __enter__(self) -> HostProcess:
        self._process.start()
        self.url: str = self._bench.recv()
        return self

    def arrivals(self) -> list[tuple[float, dict]]:
        return [(at, body) for at, body in httpx.get(f"{self.url}/received", timeout=60).json()]

    def __exit__(self, *_: object) -> None:
        self._bench.send("done")
        self._process.join(10)


def export(base: str, count: int) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    for number in range(count):
        image = f"{base}/img/{number % PHOTOS}.jpg?v={number}"
        writer.writerow({"Handle": f"product-{number:05d}", "Title": f"Product {number}", "Vendor": "Bench",
                         "Variant SKU": f"SKU-{number:05d}", "Variant Price": "9.99", "Status": "active",
                         "Image Src": image, "Image Position": "1"})  # fmt: skip
    return out.getvalue().encode()


class Reads:
    """Status and gallery reads on a thread of their own, timed, while the catalogue runs."""

    def __init__(self, url: str, batch_id: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        self.batch_id = batch_id
        self.times: dict[str, list[tuple[str, float]]] = {"generation": [], "batch": [], "gallery": []}
        self.phase = "importing"  # then "generating": each read is noted with the phase it was made in
        self.generation_id: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)

    def _timed(self, kind: str, path: str, **params: str) -> httpx.Response:
        started = time.perf_counter()
        answer = self.http.get(path, params=params)
        self.times[kind].append((self.phase, time.perf_counter() - started))
        return answer.raise_for_status()

    def _read(self) -> None:
        while not self._stop.is_set():
            page = self._timed("gallery", "/v1/generations", include_upgrades="false", limit="12").json()
            if page["items"]:
                self.generation_id = page["items"][-1]["id"]
            if self.generation_id:
                self._timed("generation", f"/v1/generations/{self.generation_id}")
            self._timed("batch", f"/v1/batches/{self.batch_id}")
            self._stop.wait(0.5)  # a few pages open, each following its batch and the gallery

    def __enter__(self) -> Reads:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def single_start(api: httpx.Client, image: str) -> float:
    """Seconds from a one-off generation's request to its submission to Kie."""
    asked = time.time()
    made = api.post("/v1/generations", json={"image_urls": [image], "product_name": "One-off"}).raise_for_status()
    generation_id = made.json()["id"]
    while True:
        body = api.get(f"/v1/generations/{generation_id}").json()
        moved = [c for c in body["history"] if c["status"] == "submitted"]
        if moved:
            return datetime.fromisoformat(moved[0]["at"]).timestamp() - asked
        if time.time() - asked > 120:
            return float("inf")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=10_000, help="products in the export")
    parser.add_argument("--window", type=float, default=120.0, help="seconds to let them run once all are queued")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="veo31-bench-catalogue-") as scratch, HostProcess() as site:
        folder = Path(scratch)
        with Emulator(folder / "emulator.log", "--generation-seconds", "10", "--clip-seconds", "1") as emulator:
            emulator.configure(rate_limit=1_000_000)
            env = {
                **open_kie_queue(100),
                "VEO31_KIE_FLEET_CONCURRENCY": "100",  # Kie runs about 100 tasks at once per account
                "VEO31_ALLOW_PRIVATE_URLS": "true",
                "VEO31_LOCAL_DISABLED": "true",
                "VEO31_QUALITY_GATE": "off",
            }
            with ServeProcess(emulator.url, folder / "data", env) as server, MemoryWatch(server.pid, 0.25) as memory:
                api = httpx.Client(base_url=server.url, timeout=300)
                hook = api.post("/v1/webhooks", json={"url": f"{site.url}/hook", "events": [
                    "generation.completed", "generation.failed", "batch.completed"]}).raise_for_status()  # fmt: skip
                assert hook.json()["secret"].startswith("whsec_")
                content = export(site.url, args.n)
                started = time.perf_counter()
                batch = api.post("/v1/batches", files={"file": ("products_export.csv", content, "text/csv")})
                batch = batch.raise_for_status().json()
                posted = time.perf_counter() - started
                with Reads(server.url, batch["id"]) as reads:
                    while batch["state"] == "running":
                        time.sleep(1)
                        batch = api.get(f"/v1/batches/{batch['id']}").json()
                    queued_in = time.perf_counter() - started
                    reads.phase = "generating"
                    peak_queued = max(memory.samples)
                    # Made with the whole catalogue queued ahead of it, the hardest moment for it.
                    single = single_start(api, f"{site.url}/img/0.jpg?v=single")
                    time.sleep(args.window)
                    batch = api.get(f"/v1/batches/{batch['id']}").json()
                    time.sleep(3)  # the deliveries of the last ones to finish
                peak = max(memory.samples)
                parts = " + ".join(f"{part:.0f}" for part in memory.peak_parts)
            kie_tasks = len(emulator.state()["tasks"])
        arrivals = site.arrivals()
    report(args, posted, queued_in, peak_queued, peak, reads, single, arrivals, batch, kie_tasks)
    print(f"  at the peak: {parts} MB (the server, then its media processes)")


def report(args, posted, queued_in, peak_queued, peak, reads, single, arrivals, batch, kie_tasks) -> None:
    def ms(values: list[float], share: float) -> str:
        return f"{percentile(values, share) * 1000:6.1f} ms" if values else "no reads"

    delays = [arrived - datetime.fromisoformat(body["data"]["at"].replace("Z", "+00:00")).timestamp()
              for arrived, body in arrivals]  # fmt: skip
    completed = batch["counts"].get("completed", 0)
    announced = len({body["data"]["id"] for _, body in arrivals if body["type"] == "generation.completed"})
    print(f"catalogue: {args.n} products, Kie queue 100 at once, {args.window:g} s window")
    print(f"  posted (read, stored, answered)    {posted:7.1f} s")
    print(f"  every product started (queued)     {queued_in:7.1f} s   ({args.n / queued_in:.0f} products/s)")
    print(f"  peak memory with all queued        {peak_queued:7.0f} MB   goal ≤ 400 MB")
    print(f"  peak memory over the run           {peak:7.0f} MB")
    for kind, goal in (("generation", "≤ 50 ms"), ("batch", "≤ 50 ms"), ("gallery", "≤ 150 ms")):
        values = [took for _, took in reads.times[kind]]
        print(
            f"  {kind:<10} read p50 {ms(values, 0.5)}  p99 {ms(values, 0.99)}   goal p99 {goal}  ({len(values)} reads)"
        )
        for phase in ("importing", "generating"):
            part = [took for at, took in reads.times[kind] if at == phase]
            print(f"    while {phase:<10} p50 {ms(part, 0.5)}  p99 {ms(part, 0.99)}  ({len(part)} reads)")
    print(f"  one-off generation submitted after {single:.2f} s (the catalogue queued ahead of it)   goal ≤ 5 s")
    if delays:
        print(f"  webhooks: {len(delays)} received, delay p50 {percentile(delays, 0.5):.2f} s, "
              f"p95 {percentile(delays, 0.95):.2f} s, max {max(delays):.2f} s   goal p95 ≤ 2 s")  # fmt: skip
    print(f"  completed in the window {completed}, announced {announced} (every one: {announced >= completed}), "
          f"Kie tasks {kie_tasks}")  # fmt: skip


if __name__ == "__main__":
    main()
