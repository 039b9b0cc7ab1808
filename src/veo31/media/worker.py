"""The media process's side (`python -m veo31.media.worker MODULE…`): run the jobs its server sends, one at a time.

A job is a pickled call (a module-level function and its arguments) on stdin, each preceded by its length; the
answer — `(True, result)` or `(False, exception)` — goes back the same way on the stdout it started with, while
anything printed goes to stderr. When the server is gone its end of stdin closes and this process leaves.
"""

from __future__ import annotations

import importlib
import os
import pickle
import sys
from typing import BinaryIO

from veo31.media.allocator import keep_heap_compact
from veo31.media.priority import lower_this_thread

HEADER = 8  # bytes of length before each message


def send(channel: BinaryIO, message: object) -> None:
    data = pickle.dumps(message)
    channel.write(len(data).to_bytes(HEADER, "big") + data)
    channel.flush()


def receive(channel: BinaryIO) -> object | None:
    """The next message, or None when the other side has closed the channel (or died mid-message)."""
    header = channel.read(HEADER)
    if len(header) < HEADER:
        return None
    size = int.from_bytes(header, "big")
    data = channel.read(size)
    return pickle.loads(data) if len(data) == size else None


def answer(job: object) -> tuple[bool, object]:
    try:
        return True, job()  # type: ignore[operator]
    except Exception as error:  # noqa: BLE001 — sent back to the server, which raises it there
        return False, error


def main() -> None:
    keep_heap_compact()
    jobs = os.fdopen(os.dup(0), "rb")
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print must not end up inside an answer
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    lower_this_thread()
    for module in sys.argv[1:]:
        importlib.import_module(module)
    while (job := receive(jobs)) is not None:
        outcome = answer(job)
        try:
            send(answers, outcome)
        except (pickle.PicklingError, TypeError, AttributeError) as error:
            send(answers, (False, RuntimeError(f"a media job's answer could not be sent back: {error!r}")))


if __name__ == "__main__":
    main()
