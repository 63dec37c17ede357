"""glibc's heap in the flow's process: the free pages given back after each wave.

polars and DuckDB allocate through jemallocs of their own; numpy's arrays (dedup's shingle
sets and sketches), pickled task results, Arrow buffers made from Python and Python's
large objects come from glibc's malloc. glibc returns a heap's free pages to the system
only from its top: pages freed below a block that stays alive stay resident, and each
wave's history lookups and dedup left more of them.

Measured in one process deduplicating ten 8 MB waves against the 1 GB load's warehouse
(a diagnostic script; the figures of whole runs are in docs/performance.md): it held
643 MB after the tenth wave with glibc's defaults, 472 MB with the free heap given back
after each wave (13-29 ms a wave), in the same CPU time. Fixing glibc's mmap threshold as
well (large blocks mapped apart) held 433 MB, but cost the 100 MB load's flow process
≈ 10 % more CPU (two runs each), so it is not done.
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


def give_back_free_heap() -> None:
    """Return the free pages inside glibc's heaps to the system (`malloc_trim(0)`)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
