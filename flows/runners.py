"""Which Prefect task runner spreads the per-file stages (decode .. segment, tokenize).

- `thread`: a thread pool in the flow's process. No start-up cost; the text stages hold
  the GIL most of the time, so it mostly overlaps file I/O. Right for small inputs.
- `process`: worker processes on the machine's cores (`ProcessPoolRunner`). Each imports
  the text libraries and loads jieba's dictionary (seconds), which pays off once a run
  has megabytes of text to clean. Workers start with the first task, so a run with no
  new files starts none.
- `dask`: `prefect_dask.DaskTaskRunner`, the path to a cluster: `--dask-address` names a
  running scheduler; without one, a local cluster of `workers` worker processes starts.
- `auto` (the default): `process` when the inbox holds at least `NEWSETL_PROCESS_MIN_MB`
  (and there is more than one core), else `thread`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from prefect.context import FlowRunContext
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from flows.pool import TextPool

RUNNER_KINDS = ("auto", "thread", "process", "dask")
# Below this many inbox bytes the process pool costs more than it saves: measured here on
# a 9.7 MB inbox (2002 generated pages, a shared 2-core machine) threads took 28 s from
# discover to validate and 2 processes 64 s (worker start-up, jieba's dictionary loaded
# per worker, chunks pickled to and fro).
DEFAULT_PROCESS_MIN_MB = 64.0


@dataclass(frozen=True)
class RunnerChoice:
    kind: str  # thread / process / dask (auto resolved)
    workers: int
    dask_address: str | None = None

    def describe(self) -> str:
        where = f" at {self.dask_address}" if self.dask_address else ""
        return f"{self.kind} runner, {self.workers} workers{where}"


def inbox_bytes(inbox: str | Path) -> int:
    """Total size of the inbox's files: a stat per file, no reading."""
    total = 0
    for root, _dirs, files in os.walk(inbox):
        for name in files:
            try:
                total += (Path(root) / name).stat().st_size
            except OSError:  # removed while we looked: it is not input any more
                continue
    return total


def choose(
    kind: str = "auto",
    workers: int | None = None,
    dask_address: str | None = None,
    inbox: str | Path | None = None,
) -> RunnerChoice:
    """Resolve the user's options (and `auto`) into one concrete runner choice."""
    if kind not in RUNNER_KINDS:
        raise ValueError(f"unknown runner {kind!r}; choose one of {', '.join(RUNNER_KINDS)}")
    if dask_address and kind not in ("auto", "dask"):
        raise ValueError(f"--dask-address needs --runner dask, not {kind}")
    if workers is not None and workers < 1:
        raise ValueError("--workers must be at least 1")
    cores = os.cpu_count() or 1
    if dask_address:
        kind = "dask"
    elif kind == "auto":
        min_bytes = float(os.environ.get("NEWSETL_PROCESS_MIN_MB", DEFAULT_PROCESS_MIN_MB)) * (1 << 20)
        big = inbox is not None and inbox_bytes(inbox) >= min_bytes
        kind = "process" if big and cores > 1 and (workers or cores) > 1 else "thread"
    return RunnerChoice(kind=kind, workers=workers or cores, dask_address=dask_address)


class ProcessPoolRunner(ThreadPoolTaskRunner):
    """Task runs on threads of the flow's process, their text work on lean worker processes.

    Prefect's own `ProcessPoolTaskRunner` runs each task with Prefect's engine in the
    worker: every worker imported Prefect and DuckDB (≈350 MB each during a run), and
    without a configured server each would have started an API server of its own. Here
    the workers import only the text work (`flows.pool`); the task runs, their states and
    retries stay in the flow's process, with its API server.
    """

    def __init__(self, max_workers: int | None = None) -> None:
        self.workers = max_workers or os.cpu_count() or 1
        # Two task threads per worker: each worker has its next chunk queued as it ends one.
        super().__init__(max_workers=2 * self.workers)
        self.pool: TextPool | None = None

    def duplicate(self) -> ProcessPoolRunner:
        return type(self)(max_workers=self.workers)

    def __enter__(self) -> ProcessPoolRunner:
        super().__enter__()
        self.pool = TextPool(self.workers).__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self.pool is not None:
                self.pool.__exit__(*exc_info)
                self.pool = None
        finally:
            super().__exit__(*exc_info)


def release_workers() -> None:
    """Stop the current flow run's worker processes: their memory back before the load,
    which runs in the flow's process (a no-op for the other runners)."""
    context = FlowRunContext.get()
    if (
        context is not None
        and isinstance(context.task_runner, ProcessPoolRunner)
        and context.task_runner.pool
    ):
        context.task_runner.pool.release()


def build(choice: RunnerChoice) -> TaskRunner:
    """A fresh task runner for one flow (runners are entered once per flow run)."""
    if choice.kind == "thread":
        return ThreadPoolTaskRunner(max_workers=choice.workers)
    if choice.kind == "process":
        return ProcessPoolRunner(max_workers=choice.workers)
    # Imported here: dask and distributed take a second to import and most runs skip them.
    from prefect_dask import DaskTaskRunner

    if choice.dask_address:
        return DaskTaskRunner(address=choice.dask_address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={"n_workers": choice.workers, "threads_per_worker": 1, "dashboard_address": None},
    )
