"""glibc's heap in the pipeline's processes: large blocks mapped apart, free pages given back.

polars and DuckDB allocate through jemallocs of their own; numpy's arrays (dedup's shingle
sets and sketches), pickled task results, Arrow buffers made from Python and Python's
large objects come from glibc's malloc. By default glibc raises its mmap threshold each
time a mapped block is freed, so later blocks of that size are carved out of the heap,
where a few small blocks that stay alive keep the freed pages around them resident.

Measured in one process deduplicating ten 8 MB waves against the 1 GB load's warehouse
(a diagnostic script; the figures of a whole run are in docs/performance.md): it kept
643 MB resident after the tenth wave with glibc's defaults, 472 MB with the free heap
given back after each wave (`give_back_free_heap`, 13-29 ms a wave), and 433 MB with
large blocks also mapped apart (`map_large_blocks_apart`), in the same CPU time.
"""

from __future__ import annotations

import ctypes
import sys

# mallopt's parameter number (glibc's malloc.h), and glibc's own default threshold:
# set explicitly, it stays put instead of rising with each freed mapped block.
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 128 << 10


def _glibc() -> ctypes.CDLL | None:
    """The process's C library when it is glibc (musl has no malloc_trim; macOS no mallopt)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None)
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


_LIBC = _glibc()


def map_large_blocks_apart() -> None:
    """Blocks of 128 KB and more get pages of their own, returned to the system when freed."""
    if _LIBC is not None:
        _LIBC.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


def give_back_free_heap() -> None:
    """Return the free pages inside glibc's heaps to the system (`malloc_trim(0)`)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
