"""A webhook receiver for the tests: every POST verified with the Standard Webhooks reference package (the other
side of our signatures), a share of them refused on purpose, what it took kept by `webhook-id`."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from veo31.emulators.serve import ServerThread


class Receiver:
    def __init__(self, failure_rate: float = 0.3, seed: int = 27) -> None:
        self.secret = ""
        self.url = ""
        self.failure_rate = failure_rate
        self.lock = threading.Lock()
        self.chance = random.Random(seed)
        self.taken: dict[str, list[bytes]] = {}  # webhook-id → every body taken with it, in order
        self.refused = 0
        self.forged = 0

    async def receive(self, request: Request) -> JSONResponse:
        raw = await request.body()
        with self.lock:
            if not self.secret:
                return JSONResponse({"error": "not ready"}, status_code=503)
            try:
                Webhook(self.secret).verify(raw, dict(request.headers))
            except WebhookVerificationError:
                self.forged += 1
                return JSONResponse({"error": "bad signature"}, status_code=400)
            if self.chance.random() < self.failure_rate:
                self.refused += 1
                return JSONResponse({"error": "try later"}, status_code=503)
            self.taken.setdefault(request.headers["webhook-id"], []).append(raw)
        return JSONResponse({"ok": True})

    def bodies(self) -> list[dict[str, Any]]:
        """The first body taken of each message."""
        with self.lock:
            return [json.loads(copies[0]) for copies in self.taken.values()]

    def repeats_identical(self) -> bool:
        with self.lock:
            return all(len(set(copies)) == 1 for copies in self.taken.values())


@contextmanager
def receiving(failure_rate: float = 0.3) -> Iterator[Receiver]:
    receiver = Receiver(failure_rate)
    with ServerThread(Starlette(routes=[Route("/hooks", receiver.receive, methods=["POST"])])) as server:
        receiver.url = f"{server.url}/hooks"
        yield receiver
