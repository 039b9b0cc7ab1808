"""CPU priority for the media threads: decoding and drawing yield to the encoder and the API."""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

BACKGROUND_NICE = 10


def lower_this_thread(nice: int = BACKGROUND_NICE) -> None:
    """Lower the calling thread's CPU priority by `nice` (Linux: a thread's nice value is its own, and the threads
    it starts — FFmpeg's, OpenCV's — inherit it). Elsewhere the thread keeps competing as an equal."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, os.getpriority(os.PRIO_PROCESS, 0) + nice)
    except OSError as error:
        log.info("could not lower a media thread's priority: %s", error)
