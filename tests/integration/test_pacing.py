"""A catalogue's products are started eight at a time while their provider would run short of work, then one at a
time once a round of it waits on the queue: the shop's image host sees it, and the provider is never kept waiting."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import ServeProcess, kie_env
from tests.integration.conftest import free_port, kie_process
from tests.integration.test_batches import shopify_export
from veo31.emulators.serve import ServerThread

PRODUCTS = 32  # two slices of 16


def png(number: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 400), (number * 7 % 256, 90, 160)).save(out, "PNG")
    return out.getvalue()


class SlowShop:
    """A shop's image host taking 0.3 s per photo, noting how many photos veo31 was fetching when it asked for each
    (the Kie emulator fetches them too, for the tasks it is given: not counted)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fetching = 0
        self.crowd: dict[int, int] = {}  # product number → photos in flight when its own was asked (itself included)

    async def photo(self, request: Request) -> Response:
        number = int(request.path_params["number"])
        if request.headers.get("user-agent") == "kie-emulator":
            return Response(png(number), media_type="image/png")
        with self.lock:
            self.fetching += 1
            self.crowd[number] = self.fetching
        try:
            await asyncio.sleep(0.3)
            return Response(png(number), media_type="image/png")
        finally:
            with self.lock:
                self.fetching -= 1


@contextmanager
def slow_shop() -> Iterator[tuple[SlowShop, str]]:
    shop = SlowShop()
    with ServerThread(Starlette(routes=[Route("/p/{number}.png", shop.photo)])) as served:
        yield shop, served.url


def test_a_catalogue_feeds_its_provider_fast_then_gently(tmp_path: Path) -> None:
    with kie_process(tmp_path, clip_seconds=1, generation_seconds=120) as emulator, slow_shop() as (shop, site):
        env = kie_env(emulator, VEO31_KIE_CONCURRENCY="2", VEO31_KIE_FLEET_CONCURRENCY="2")
        server = ServeProcess(env, free_port(), str(tmp_path / "data"))
        server.start()
        try:
            export = shopify_export({f"item-{n}": [f"{site}/p/{n}.png"] for n in range(PRODUCTS)}, without_image=None)
            batch = httpx.post(f"{server.url}/v1/batches", files={"file": ("export.csv", export, "text/csv")}).json()
            deadline = time.monotonic() + 90
            while (seen := httpx.get(f"{server.url}/v1/batches/{batch['id']}").json())["state"] == "running":
                assert time.monotonic() < deadline
                time.sleep(0.2)
            assert seen["products"] == PRODUCTS and seen["counts"].get("failed", 0) == 0, seen
            while httpx.get(f"{server.url}/v1/batches/{batch['id']}").json()["counts"].get("queued") != PRODUCTS - 2:
                assert time.monotonic() < deadline, "the provider has its round of two tasks"
                time.sleep(0.2)
        finally:
            server.stop()
    first, second = [shop.crowd[n] for n in range(16)], [shop.crowd[n] for n in range(16, PRODUCTS)]
    assert max(first) == 8, "with nothing queued, eight products start side by side"
    assert max(second) == 1, "with a round of work queued ahead of the provider, one at a time"
