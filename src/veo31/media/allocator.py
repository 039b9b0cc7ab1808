"""The C heap of a long-running veo31 process kept close to what it holds, on Linux's glibc.

Photos decoded by Pillow, SQLite's pages and statements and the HTTP clients' buffers are malloc'd by C code, on
dozens of threads. glibc gives threads arenas of their own (up to eight per core) and, once a large block has been
freed, raises the size from which it maps large blocks to memory of their own, so later ones come from the arenas
instead. Both leave freed memory scattered where it cannot go back to the system: a server starting a catalogue's
products grew with the catalogue while what it held did not (docs/performance.md). Two arenas and a fixed mapping
size keep it flat. Elsewhere (macOS, musl) nothing is changed.
"""

from __future__ import annotations

import ctypes
import logging
import platform

log = logging.getLogger(__name__)

# mallopt's parameters (glibc's malloc.h)
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

ARENAS = 2
MAP_FROM_BYTES = 128 * 1024  # glibc's own starting value, kept fixed instead of rising


def keep_heap_compact() -> bool:
    """Set the limits for this process; call it before the process starts its threads. Whether they were set."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(None)
        applied = libc.mallopt(M_ARENA_MAX, ARENAS) == 1 and libc.mallopt(M_MMAP_THRESHOLD, MAP_FROM_BYTES) == 1
    except (OSError, AttributeError) as error:
        log.info("could not tune the C heap: %s", error)
        return False
    if not applied:
        log.info("glibc refused the C heap's limits; it keeps its defaults")
    return applied
