"""Processes of their own for retrieval's heavy work: streaming a finished video to disk and decoding every frame.

In the API's process that work competed with every answer for the one interpreter lock. While 20 videos of 50 MB
streamed in threads and were decoded, a status read waited 100–200 ms at p99 (bench/retrieve.py), whatever the
threads' CPU priority: a thread holding the lock at a low priority only made the API wait longer for it. In
processes of their own, at a lower CPU priority, the work uses the machine's other cores and the API's answers
keep their pace; the processes hold no frames or buffers between jobs.

`run(call)` runs a picklable call (a module-level function and its arguments) in one of them. Errors come back
as raised, with their fields (`Veo31Error`s keep theirs through pickling).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from veo31.domain import MediaProcessError
from veo31.media.priority import lower_this_thread

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_PROCESSES = 2
_ORPHAN_CHECK_SECONDS = 1.0

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_size = DEFAULT_PROCESSES
_preload: tuple[str, ...] = ()


def configure(processes: int, preload: tuple[str, ...] = ()) -> None:
    """Use `processes` media processes from now on, each importing the `preload` modules as it starts (so that
    its first job does not pay for them). A pool already running finishes its jobs and is replaced."""
    global _size, _pool, _preload
    with _lock:
        if (processes, preload) == (_size, _preload):
            return
        _size, _preload = processes, preload
        old, _pool = _pool, None
    if old is not None:
        old.shutdown(wait=False)


async def run(call: Callable[[], T]) -> T:
    """`call()` in a media process; the event loop only waits for its answer.

    The jobs are repeatable (a download into a file, a check of a file), so one whose process died — killed,
    out of memory, a decoder crash — runs once more in a fresh pool; a second death is `MediaProcessError`. Either
    way this process lives on: a file that crashes FFmpeg no longer takes the API down with it.
    """
    loop = asyncio.get_running_loop()
    for attempt in (1, 2):
        pool = _executor()
        try:
            return await loop.run_in_executor(pool, call)
        except BrokenProcessPool:
            _discard(pool)
            log.warning("a media process died under a job (attempt %d of 2)", attempt)
    raise MediaProcessError(
        "the media process died twice while working on this file (out of memory, or a file that crashes the decoder)"
    )


def start() -> None:
    """Boot every media process now, without waiting (the pool starts one per job that finds none idle)."""
    pool = _executor()
    for _ in range(_size):
        pool.submit(os.getpid)


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            # Spawned, not forked: a fork of a process with running threads (the event loop, DBOS's) may copy a
            # lock someone held at that instant and hang on it.
            _pool = ProcessPoolExecutor(
                _size,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_media_process,
                initargs=(os.getpid(), _preload),
            )
        return _pool


def _discard(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is broken:  # not yet replaced by a job that failed alongside this one
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


def _start_media_process(parent: int, preload: tuple[str, ...]) -> None:
    lower_this_thread()
    for module in preload:
        importlib.import_module(module)
    # A parent killed with SIGKILL cannot stop its pool; without this watch its idle media processes would wait
    # for jobs forever.
    threading.Thread(target=_exit_when_orphaned, args=(parent,), name="veo31-orphan-watch", daemon=True).start()


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_ORPHAN_CHECK_SECONDS)
    os._exit(0)
