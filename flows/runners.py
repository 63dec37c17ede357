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

from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

RUNNER_KINDS = ("auto", "thread", "process", "dask")
# Below this many inbox bytes the process pool's start-up costs more than it saves.
DEFAULT_PROCESS_MIN_MB = 8.0


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


def build(choice: RunnerChoice) -> TaskRunner:
    """A fresh task runner for one flow (runners are entered once per flow run)."""
    if choice.kind == "thread":
        return ThreadPoolTaskRunner(max_workers=choice.workers)
    if choice.kind == "process":
        return ProcessPoolTaskRunner(max_workers=choice.workers)
    # Imported here: dask and distributed take a second to import and most runs skip them.
    from prefect_dask import DaskTaskRunner

    if choice.dask_address:
        return DaskTaskRunner(address=choice.dask_address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={"n_workers": choice.workers, "threads_per_worker": 1, "dashboard_address": None},
    )
