"""What the pipeline needs while it runs — settings, database, blobs, provider clients, events — as one container.
DBOS workflows are module-level functions, so they find it through `current()`; `lifecycle` starts and stops it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from dbos import Queue
from sqlalchemy import Engine

from veo31.analysis.choose import Analyser
from veo31.config import Settings
from veo31.domain import Status
from veo31.pipeline.events import StatusEvents
from veo31.prompts.choose import PromptWriter
from veo31.providers.base import Provider
from veo31.store import changes
from veo31.store.blobs import BlobStore

log = logging.getLogger("veo31.pipeline")
T = TypeVar("T")
READER_THREADS = 4
# The queue catalogue batches and webhook deliveries run on: any worker picks them up, an API-only process never.
BACKGROUND = "veo31-background"


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    blobs: BlobStore
    providers: dict[str, Provider]
    analyser: Analyser
    writer: PromptWriter
    events: StatusEvents = field(default_factory=StatusEvents)
    background: set[asyncio.Task[Any]] = field(default_factory=set)
    problems: dict[str, str] = field(default_factory=dict)  # provider → what to fix (a retired model, …)
    queues: dict[str, Queue] = field(default_factory=dict)  # provider → its queue, as registered at start
    # Reads that answer a person (a status, the gallery, a batch's counts) run on threads of their own: on the
    # shared pool they waited behind the pipeline's writes, each queued on SQLite's one writer slot.
    readers: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(READER_THREADS, thread_name_prefix="veo31-read")
    )

    async def read(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a read-only query on the readers' threads."""
        return await asyncio.get_running_loop().run_in_executor(self.readers, partial(query, *args, **kwargs))

    def queue(self, provider: str) -> Queue:
        """The provider's queue. Kept from its registration rather than asked of DBOS at each enqueue (a query):
        enqueueing needs only its name, and its limits live in the database, where every worker reads them."""
        try:
            return self.queues[provider]
        except KeyError:
            raise RuntimeError(f"no queue for provider {provider}") from None

    def provider(self, name: str) -> Provider:
        try:
            return self.providers[name]
        except KeyError:
            raise RuntimeError(f"provider {name} is not configured in this process") from None

    async def record(self, generation_id: str, change: Callable[..., bool | None], *args: Any, **fields: Any) -> bool:
        """The one door for a change to a generation: `change` (a `store` function) stores it, and unless it said
        nothing moved (False), whoever watches the generation is told."""
        moved = await asyncio.to_thread(change, self.engine, generation_id, *args, **fields)
        if moved is not False:
            self.events.publish(generation_id)
        return moved is not False

    async def set_status(self, generation_id: str, status: Status, detail: str | None = None, **fields: Any) -> bool:
        return await self.record(generation_id, changes.record_status, status, detail, **fields)

    async def update(self, generation_id: str, **fields: Any) -> None:
        await self.record(generation_id, changes.update_fields, **fields)

    async def note(self, generation_id: str, detail: str) -> None:
        await self.record(generation_id, changes.add_note, detail)


_current: Runtime | None = None


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("the veo31 pipeline is not running in this process")
    return _current


def running() -> Runtime | None:
    """The process's runtime, or None when the pipeline is not running here."""
    return _current


def install(runtime: Runtime | None) -> Runtime | None:
    """Make `runtime` the process's (None: none); returns the one it replaces. Only `lifecycle` calls it."""
    global _current
    previous, _current = _current, runtime
    return previous
