"""Worker processes for the text work, lean: they import `flows.text_work`, not Prefect.

The process runner (`flows.runners.ProcessPoolRunner`) keeps the Prefect task runs of
`restore` and `tokenize` in the flow's process, on threads, and each hands its chunk or
part to one of these processes (`run`). Under Prefect's own process pool each worker ran
Prefect's engine as well: it imported Prefect and DuckDB and reported every task run to
the API itself, ~100 MB more per worker than the text work needs.

Without a pool in this process (the thread and Dask runners, or after `release`) the
work runs where the task runs.

A spawned worker also imports the main module of the process that started it (Python's
multiprocessing does). `newsetl` and the bench scripts keep theirs light; a deployment's
flow run, whose main module is `prefect.engine`, has workers that import Prefect as well.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

from flows import heap

P = ParamSpec("P")
R = TypeVar("R")

WORKER_NICENESS = 10


class WorkerDied(RuntimeError):
    """A worker process ended while it held work (killed, or out of memory)."""


def _yield_to_the_flow() -> None:
    """Worker initializer: run below the flow's process in the scheduler.

    The flow's process deduplicates, validates and stages the waves one after another:
    the run's critical path (the workers restore and cut words a wave ahead of it). With
    two workers and the flow on two cores, it got ~2/3 of a core.
    """
    os.nice(WORKER_NICENESS)


def _giving_back_free_heap(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """`fn(*args, **kwargs)`, then the worker's free heap given back to the system.

    What a chunk or part allocated through glibc (Python's large objects, numpy, pickles)
    is freed when the task ends, but glibc keeps the free pages below blocks that stay
    alive: a worker held ~10 MB more between tasks without this (a diagnostic script
    running six 4 MB chunks and their 1 MB parts as a worker does; 0.4 ms a call).
    """
    try:
        return fn(*args, **kwargs)
    finally:
        heap.give_back_free_heap()


class TextPool:
    """`workers` processes, started as the first work arrives (a run with no new files
    starts none), stopped by `release` or at the end of the `with` block."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None
        self._previous: TextPool | None = None
        self._lock = threading.Lock()  # the flow's task threads share the pool

    def __enter__(self) -> TextPool:
        global _current
        self._previous, _current = _current, self
        self._executor = self._start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        global _current
        self.release()
        _current = self._previous

    def _start(self) -> ProcessPoolExecutor:
        # Spawned, not forked: a fork of the flow's process would carry its threads'
        # locks and, page for page, its memory (counted again in each worker's RSS).
        return ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_yield_to_the_flow
        )

    def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """`fn(*args, **kwargs)` in a worker process; in this one once the pool is released."""
        executor = self._executor
        if executor is None:
            return fn(*args, **kwargs)
        try:
            return executor.submit(_giving_back_free_heap, fn, *args, **kwargs).result()
        except BrokenProcessPool as exc:
            # Every later submission to a broken pool fails too: start a fresh one, so
            # that the task's retry (and the rest of the run) gets workers again.
            with self._lock:
                if self._executor is executor:
                    self._executor = self._start()
            executor.shutdown(wait=False, cancel_futures=True)
            raise WorkerDied(f"a worker process died while running {fn.__name__}: {exc}") from exc

    def release(self) -> None:
        """Stop the worker processes (their memory back before the flow's load)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)


_current: TextPool | None = None


def run(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """`fn(*args, **kwargs)` on this process's pool of workers, or here when it has none."""
    pool = _current
    return fn(*args, **kwargs) if pool is None else pool.run(fn, *args, **kwargs)
