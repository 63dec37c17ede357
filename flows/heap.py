"""glibc's heap in the pipeline's processes: large blocks mapped apart, free pages given back.

polars and DuckDB allocate through jemallocs of their own; numpy's arrays (dedup's shingle
sets and sketches), pickled task results, Arrow buffers made from Python and Python's
large objects come from glibc's malloc. glibc returns a heap's free pages to the system
only from its top: pages freed below a block that stays alive stay resident. And by
default it raises its mmap threshold (up to 32 MB) each time a mapped block is freed, so
later blocks of that size are carved out of the heap too.

Measured in one process deduplicating ten 8 MB waves against the 1 GB load's warehouse
(a diagnostic script; the figures of whole runs are in docs/performance-log.md): with glibc's
defaults it held 643 MB after the tenth wave; with the free heap given back after each
wave (13-29 ms a wave) 443 MB after the first and 490 MB after the tenth, still growing;
with the mmap threshold also fixed, at 128 KB, 1 MB or 4 MB alike, 429-441 MB, flat. A
whole 1 GB load with the trim alone grew the flow process from ~580 to ~700 MB over its
waves, flat at ~600 MB with a fixed 128 KB threshold (RSS sampled every 2 s). The fixed
threshold is 4 MB, not glibc's initial 128 KB: fewer blocks are mapped and unmapped
(page faults, system calls); 128 KB cost the 100 MB load's flow process up to ~10 % more
CPU (two runs each, within the machine's noise of the day).
"""

from __future__ import annotations

import ctypes
import sys


def _glibc() -> ctypes.CDLL | None:
    """The process's C library when it is glibc (musl and macOS have no malloc_trim)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None)
    return libc if hasattr(libc, "malloc_trim") else None


_LIBC = _glibc()

# mallopt's parameter number (glibc's malloc.h). Set explicitly, the threshold stays put.
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 4 << 20


def map_large_blocks_apart() -> None:
    """Blocks of MMAP_THRESHOLD_BYTES and more get pages of their own, returned when freed."""
    if _LIBC is not None:
        _LIBC.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


def give_back_free_heap() -> None:
    """Return the free pages inside glibc's heaps to the system (`malloc_trim(0)`)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
