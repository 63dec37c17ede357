"""Which Prefect task runner spreads the per-file stages (decode .. segment, tokenize).

- `thread`: a thread pool in the flow's process. No start-up cost; the text stages hold
  the GIL most of the time, so it mostly overlaps file I/O. Right for small inputs.
- `process`: a process pool on the machine's cores. Each worker imports Prefect and the
  text libraries (seconds), which pays off once a run has megabytes of text to clean.
  Workers start with the first submitted task, so a run with no new files starts none.
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
from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

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


class SharedApiProcessPool(ProcessPoolTaskRunner):
    """A process pool whose workers report to the flow's own API server.

    With no server configured (`newsetl run` on an ephemeral server), each worker would
    start an ephemeral server of its own: ~13 s per worker, and the task runs it records
    are lost with it. The workers get the flow's server address instead.
    """

    def __enter__(self) -> SharedApiProcessPool:
        self._api_settings = None
        if not get_current_settings().api.url:
            from prefect.client.orchestration import get_client

            with get_client(sync_client=True) as client:  # the flow's ephemeral server
                url = str(client.api_url).rstrip("/")
            self._api_settings = temporary_settings(updates={PREFECT_API_URL: url})
            self._api_settings.__enter__()
        return super().__enter__()

    def release_workers(self) -> None:
        """Stop the worker processes once the flow has no more tasks for them.

        Each holds ~350 MB (Prefect, jieba's dictionary, the text libraries) that the
        flow's last step, the load, would otherwise have beside its own peak. A task
        submitted afterwards fails as on a runner that was never started.
        """
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def __exit__(self, *exc_info) -> None:
        try:
            super().__exit__(*exc_info)
        finally:
            if self._api_settings is not None:
                self._api_settings.__exit__(*exc_info)


WORKER_NICENESS = 10


def _yield_to_the_flow() -> None:
    """Process-pool worker initializer: run below the flow's process in the scheduler.

    The flow's process deduplicates, validates and stages the waves one after another:
    the run's critical path (the workers restore and cut words a wave ahead of it). With
    two workers and the flow on two cores, it got ~2/3 of a core.
    """
    os.nice(WORKER_NICENESS)


def release_workers() -> None:
    """Stop the current flow run's process-pool workers (no-op for the other runners)."""
    context = FlowRunContext.get()
    if context is not None and isinstance(context.task_runner, SharedApiProcessPool):
        context.task_runner.release_workers()


def build(choice: RunnerChoice) -> TaskRunner:
    """A fresh task runner for one flow (runners are entered once per flow run)."""
    if choice.kind == "thread":
        return ThreadPoolTaskRunner(max_workers=choice.workers)
    if choice.kind == "process":
        return SharedApiProcessPool(max_workers=choice.workers, initializer=_yield_to_the_flow)
    # Imported here: dask and distributed take a second to import and most runs skip them.
    from prefect_dask import DaskTaskRunner

    if choice.dask_address:
        return DaskTaskRunner(address=choice.dask_address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={"n_workers": choice.workers, "threads_per_worker": 1, "dashboard_address": None},
    )
