"""Work for `tests/test_runners.py` to hand to worker processes.

A module of its own, importing nothing of the pipeline: a worker unpickles a function by
importing its module, and the test module imports Prefect (through `flows.runners`).
"""

from __future__ import annotations

import os
import sys


def pid() -> int:
    return os.getpid()


def niceness() -> int:
    return os.nice(0)


def heavy_modules() -> list[str]:
    """Which of the modules the workers must not load are loaded."""
    return sorted(m for m in ("prefect", "duckdb", "flows.tasks", "flows.ingest") if m in sys.modules)


def die() -> None:
    os._exit(1)  # as a worker killed by the kernel (out of memory) ends


_lasting: list[bytes] = []


def fragment_the_heap() -> float:
    """Leave 200 MB freed between lasting 1 MB blocks on the heap, as a task's objects
    freed among a few that stay; the worker's resident MB before they were freed."""
    import psutil

    blocks = [b"x" * (1 << 20) for _ in range(200)]  # under the 4 MB mmap threshold: heap
    _lasting.extend(blocks[9::10])
    rss = psutil.Process().memory_info().rss / 2**20
    del blocks
    return rss


def resident_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20
