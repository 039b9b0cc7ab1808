"""The C heap of a long-running veo31 process kept close to what it holds, on Linux's glibc.

Photos decoded by Pillow, SQLite's pages and statements and the HTTP clients' buffers are malloc'd by C code, on
dozens of threads. glibc gives threads arenas of their own (up to eight per core) and, once a large block has been
freed, raises the size from which it maps large blocks to memory of their own, so later ones come from the arenas
instead. Both leave freed memory scattered where it cannot go back to the system: a server starting a catalogue's
products grew with the catalogue while what it held did not (docs/performance.md). Two arenas and a fixed mapping
size keep it flat. Elsewhere (macOS, musl), or where the operator set them, nothing is changed.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform

log = logging.getLogger(__name__)

# mallopt's parameter, our value, and how an operator sets it instead (their setting is kept)
LIMITS = (
    (-8, 2, "MALLOC_ARENA_MAX", "glibc.malloc.arena_max"),  # M_ARENA_MAX: two arenas
    (-3, 128 * 1024, "MALLOC_MMAP_THRESHOLD_", "glibc.malloc.mmap_threshold"),  # M_MMAP_THRESHOLD: glibc's start, fixed
)


def keep_heap_compact() -> None:
    """Set the limits for this process; call it before the process starts its threads."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    try:
        mallopt = ctypes.CDLL(None).mallopt
        for parameter, value, variable, tunable in LIMITS:
            if variable not in os.environ and tunable not in tunables and mallopt(parameter, value) != 1:
                log.info("glibc refused a limit of the C heap (%s); it keeps its default", variable)
    except (OSError, AttributeError) as error:
        log.info("could not tune the C heap: %s", error)
