"""Processes of their own for retrieval's heavy work: streaming a finished video to disk and decoding every frame.

In the API's process that work competed with every answer for the one interpreter lock, whatever the threads'
CPU priority: a thread holding the lock at a low priority only made the API wait longer for it. In processes of
their own, at a lower CPU priority, the work uses the machine's other cores, and status reads stay quick while
videos are retrieved (bench/retrieve.py; docs/performance.md).

They are plain `python -m veo31.media.worker` processes fed over pipes (veo31.media.worker), not multiprocessing's:
a spawned multiprocessing child first re-imports the parent's main script, and under the `veo31` command that
pulled the whole application into each one, several times the memory. When the server dies, its ends of the
pipes close and they leave.

`run(call)` runs a picklable call (a module-level function and its arguments) in one of them. Errors come back
as raised, with their fields (`Veo31Error`s keep theirs through pickling).
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast

from veo31.errors import MediaProcessError
from veo31.media.worker import receive, send

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_PROCESSES = 2


# What a media process needs from the server's environment: finding Python and its packages, the locale, a
# scratch folder, and how to reach the network (proxies, CA bundles). Not the provider keys, the database URL or the
# S3 keys: a job carries what it needs, and a file that subverts the decoder finds nothing more to read.
_PASSED_ON = ("PATH", "HOME", "LANG", "LC_", "TZ", "TMPDIR", "PYTHON", "VIRTUAL_ENV", "SSL_CERT_", "REQUESTS_CA_BUNDLE")
_PROXIES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def media_environment(environment: Mapping[str, str]) -> dict[str, str]:
    return {
        name: value for name, value in environment.items() if name.startswith(_PASSED_ON) or name.lower() in _PROXIES
    }


class _Died(Exception):
    """The media process ended before answering."""


class _MediaProcess:
    def __init__(self, preload: tuple[str, ...]) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "veo31.media.worker", *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=media_environment(os.environ),
        )

    def call(self, job: Callable[[], Any]) -> tuple[bool, Any]:
        assert self.popen.stdin is not None and self.popen.stdout is not None
        try:
            send(self.popen.stdin, job)
            outcome = receive(self.popen.stdout)
        except OSError:  # a broken pipe: it died before reading the job
            outcome = None
        if outcome is None:
            raise _Died
        return cast(tuple[bool, Any], outcome)

    def close(self) -> None:
        """Let it go: with its stdin closed it leaves after the job in hand (killed if already broken)."""
        assert self.popen.stdin is not None and self.popen.stdout is not None
        try:
            self.popen.stdin.close()
        except OSError:
            self.popen.kill()
        self.popen.stdout.close()


class _Pool:
    """`size` media processes, each worked by one thread of its own, so that jobs beyond `size` wait in the
    threads' queue rather than holding threads of the event loop's executor."""

    def __init__(self, size: int, preload: tuple[str, ...]) -> None:
        self.size, self.preload = size, preload
        self.threads = ThreadPoolExecutor(size, thread_name_prefix="veo31-media")
        self.idle: queue.SimpleQueue[_MediaProcess] = queue.SimpleQueue()
        self.closed = False
        for _ in range(size):
            self.idle.put(_MediaProcess(preload))

    def call(self, job: Callable[[], T]) -> T:
        process = self.idle.get()  # one is always free: there are as many threads as processes
        try:
            for attempt in (1, 2):
                try:
                    ok, value = process.call(job)
                    break
                except _Died:
                    log.warning("a media process died under a job (attempt %d of 2)", attempt)
                    process.close()
                    process = _MediaProcess(self.preload)
            else:
                raise MediaProcessError(
                    "the media process died twice while working on this file (out of memory, or a file that "
                    "crashes the decoder)"
                )
        finally:
            if self.closed:  # replaced while this job ran
                process.close()
            else:
                self.idle.put(process)
        if ok:
            return cast(T, value)
        raise value

    def close(self) -> None:
        self.closed = True
        self.threads.shutdown(wait=False)
        while True:
            try:
                self.idle.get_nowait().close()
            except queue.Empty:
                return


_lock = threading.Lock()
_pool: _Pool | None = None
_size = DEFAULT_PROCESSES
_preload: tuple[str, ...] = ()


def configure(processes: int, preload: tuple[str, ...] = ()) -> None:
    """Use `processes` media processes from now on, each importing the `preload` modules as it starts (so that
    its first job does not pay for them). Processes already running finish their jobs and leave."""
    global _size, _pool, _preload
    with _lock:
        if (processes, preload) == (_size, _preload):
            return
        _size, _preload = processes, preload
        old, _pool = _pool, None
    if old is not None:
        old.close()


def start() -> None:
    """Boot the media processes now rather than at the first job."""
    _current()


async def run(call: Callable[[], T]) -> T:
    """`call()` in a media process; the event loop only waits for its answer.

    The jobs are repeatable (a download into a file, a check of a file), so one whose process died — killed,
    out of memory, a decoder crash — runs once more in a fresh process; a second death is `MediaProcessError`.
    Either way this process lives on: a file that crashes FFmpeg no longer takes the API down with it.
    """
    pool = _current()
    return await asyncio.get_running_loop().run_in_executor(pool.threads, pool.call, call)


def _current() -> _Pool:
    global _pool
    with _lock:
        if _pool is None:
            _pool = _Pool(_size, _preload)
        return _pool
