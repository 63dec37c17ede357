"""Task runners: the Dask (cluster) and process paths load the seeds exactly as threads do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from flows import runners
from tests.conftest import data_checksums


def run_with(choice: runners.RunnerChoice, inbox: Path, db: Path):
    from flows.ingest import ingest_news

    return ingest_news.with_options(task_runner=runners.build(choice))(inbox=str(inbox), db=str(db))


def test_auto_picks_threads_for_small_inboxes_and_processes_for_large(inbox, monkeypatch):
    monkeypatch.delenv("NEWSETL_PROCESS_MIN_MB", raising=False)
    assert runners.choose("auto", inbox=inbox).kind == "thread"  # the seeds: ~50 KB
    monkeypatch.setenv("NEWSETL_PROCESS_MIN_MB", "0.01")
    assert runners.choose("auto", workers=2, inbox=inbox).kind == "process"
    assert runners.choose("auto", workers=1, inbox=inbox).kind == "thread"  # one worker: no pool
    assert runners.choose("thread", inbox=inbox).kind == "thread"
    assert runners.choose(dask_address="tcp://127.0.0.1:8786").kind == "dask"
    with pytest.raises(ValueError, match="needs --runner dask"):
        runners.choose("process", dask_address="tcp://127.0.0.1:8786")


def test_dask_cluster_gives_the_same_tables_as_threads(
    prefect_backend, inbox, tmp_path, run_flow, db_path, monkeypatch
):
    from distributed import LocalCluster

    threads = run_flow(inbox, db_path)
    # Tiny chunks: every page its own task, the texts to tokenize in several parts,
    # so the cluster really spreads the work (the threads run had one chunk, one part).
    monkeypatch.setenv("NEWSETL_CHUNK_MB", "0.005")
    # Two single-thread workers in this process: the `--dask-address` path, without
    # paying for worker processes that each import Prefect.
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        choice = runners.choose("dask", dask_address=cluster.scheduler_address)
        dask = run_with(choice, inbox, tmp_path / "dask.duckdb")

    assert (dask.files_new, dask.articles, dask.paragraphs) == (5, threads.articles, threads.paragraphs)
    expected = data_checksums(db_path)
    assert expected["paragraphs"][0] == threads.paragraphs
    assert data_checksums(tmp_path / "dask.duckdb") == expected


@pytest.mark.slow
def test_process_pool_gives_the_same_tables_as_threads(prefect_backend, inbox, tmp_path, run_flow, db_path):
    run_flow(inbox, db_path)
    processes = run_with(runners.choose("process", workers=2), inbox, tmp_path / "processes.duckdb")

    assert processes.files_new == 5
    assert processes.stage_seconds["tokenize"] > 0  # timed in the worker, reported by the flow
    assert data_checksums(tmp_path / "processes.duckdb") == data_checksums(db_path)


def _niceness() -> int:
    return os.nice(0)


@pytest.mark.slow
def test_process_pool_workers_run_below_the_flow(prefect_backend):
    # The flow's process is the run's critical path (dedup, validate, staging one wave
    # after another); the workers take the cores it leaves.
    from prefect import flow, task

    niceness = task(_niceness)

    @flow(task_runner=runners.build(runners.choose("process", workers=1)))
    def ask_a_worker() -> int:
        return niceness.submit().result()

    assert ask_a_worker() == os.nice(0) + runners.WORKER_NICENESS


def _pid() -> int:
    return os.getpid()


@pytest.mark.slow
def test_released_workers_are_gone_before_the_flow_ends(prefect_backend):
    # The load runs in the flow's process after the last task: the workers' memory
    # (~350 MB each) must be back before it.
    from prefect import flow, task

    pid = task(_pid)

    @flow(task_runner=runners.build(runners.choose("process", workers=1)))
    def use_then_release() -> tuple[int, bool]:
        worker = pid.submit().result()
        runners.release_workers()
        return worker, psutil.pid_exists(worker)

    worker, alive_after_release = use_then_release()
    assert worker != os.getpid()
    assert not alive_after_release


# A fresh interpreter that imports the package first, as `newsetl` does, then frees what
# polars allocated for a few group-bys: the MB of resident memory it keeps.
_RETAINED_AFTER_FREE = """
import flows  # noqa: F401
import polars as pl
import psutil

process = psutil.Process()
before = process.memory_info().rss
for _ in range(3):
    n = pl.int_range(0, 3_000_000, eager=True)
    frame = pl.DataFrame({"a": n % 1000, "b": n.cast(pl.String)})
    sums = frame.group_by("a").agg(pl.col("b").str.len_bytes().sum())
    del n, frame, sums
print((process.memory_info().rss - before) / 2**20)
"""


def _retained_mb(env: dict[str, str]) -> float:
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run(
        [sys.executable, "-c", _RETAINED_AFTER_FREE],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(run.stdout)


def test_the_pipelines_processes_give_polars_freed_memory_back():
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    assert _retained_mb(env) < 50
    # A setting in the environment is kept: jemalloc's default decay holds on to the pages.
    assert _retained_mb({**env, "_RJEM_MALLOC_CONF": "dirty_decay_ms:10000"}) > 80
