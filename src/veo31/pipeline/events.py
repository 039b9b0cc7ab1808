"""Live status: a generation's watchers are woken the moment this process records a change.

Watchers in other processes (an API process beside separate workers) are not woken by this; they re-read the
database on a short timer instead, which `service.watch` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import defaultdict
from collections.abc import AsyncIterator


class StatusEvents:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watchers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = defaultdict(set)

    def publish(self, generation_id: str) -> None:
        """Wake everyone watching `generation_id`; safe to call from any thread."""
        with self._lock:
            watchers = list(self._watchers.get(generation_id, ()))
        for loop, event in watchers:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    @contextlib.asynccontextmanager
    async def watch(self, generation_id: str) -> AsyncIterator[asyncio.Event]:
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._watchers[generation_id].add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                self._watchers[generation_id].discard(entry)
                if not self._watchers[generation_id]:
                    del self._watchers[generation_id]
