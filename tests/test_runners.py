"""Task runners: the Dask (cluster) and process paths load the seeds exactly as threads do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from flows import heap, pool, runners
from tests import pool_probes
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


@pytest.mark.slow
def test_a_worker_killed_while_cutting_words_costs_a_retry_not_a_row(
    prefect_backend, inbox, tmp_path, run_flow, db_path, monkeypatch
):
    run_flow(inbox, db_path)
    # Tiny chunks: each tokenize task cuts several parts. The first worker to stage a
    # part's words then dies (flows/text_work.py), so its task fails with some of its
    # parts' files written, and its retry cuts and writes them all again.
    monkeypatch.setenv("NEWSETL_CHUNK_MB", "0.005")
    killed = tmp_path / "killed"
    monkeypatch.setenv("NEWSETL_FAULT_KILL_CUTTER", str(killed))
    processes = run_with(runners.choose("process", workers=2), inbox, tmp_path / "processes.duckdb")

    assert killed.exists()
    assert (processes.status, processes.files_new) == ("completed", 5)
    assert data_checksums(tmp_path / "processes.duckdb") == data_checksums(db_path)


@pytest.mark.slow
def test_worker_processes_run_below_the_flow_without_prefect_and_go_when_released():
    # The flow's process is the run's critical path (dedup, validate, staging one wave
    # after another); the workers take the cores it leaves, hold only the text work, and
    # are stopped before the load, which runs in the flow's process.
    with pool.TextPool(workers=1) as workers:
        worker = pool.run(pool_probes.pid)
        assert worker != os.getpid()
        assert pool.run(pool_probes.niceness) == os.nice(0) + pool.WORKER_NICENESS
        assert pool.run(pool_probes.heavy_modules) == []
        workers.release()
        assert not psutil.pid_exists(worker)
        assert pool.run(pool_probes.pid) == os.getpid()  # released: the rest runs here
    assert pool.run(pool_probes.pid) == os.getpid()  # no pool outside the block


@pytest.mark.slow
def test_a_dead_worker_fails_its_work_and_the_next_work_gets_a_new_one():
    with pool.TextPool(workers=1):
        with pytest.raises(pool.WorkerDied, match="die"):
            pool.run(pool_probes.die)
        assert pool.run(pool_probes.pid) != os.getpid()


@pytest.mark.skipif(heap._LIBC is None, reason="glibc only")
def test_a_worker_gives_its_free_heap_back_after_each_task():
    with pool.TextPool(workers=1):
        with_blocks = pool.run(pool_probes.fragment_the_heap)
        after = pool.run(pool_probes.resident_mb)
    # Without the trim after the task, the 180 MB freed between the lasting blocks stay.
    assert with_blocks - after > 150


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


def _printed_numbers(script: str, env: dict[str, str] | None = None) -> list[float]:
    """The numbers a script prints, run in a fresh interpreter from the project's root."""
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=root, capture_output=True, text=True, check=True
    )
    return [float(n) for n in run.stdout.split()]


def test_the_pipelines_processes_give_polars_freed_memory_back():
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    (retained,) = _printed_numbers(_RETAINED_AFTER_FREE, env)
    assert retained < 50
    # A setting in the environment is kept: jemalloc's default decay holds on to the pages.
    (kept,) = _printed_numbers(_RETAINED_AFTER_FREE, {**env, "_RJEM_MALLOC_CONF": "dirty_decay_ms:10000"})
    assert kept > 80


# 200 blocks of 1 MB, every tenth kept (as a wave's lasting objects among its freed
# arrays): the MB glibc keeps resident after the others are freed, and after
# `flows.heap.give_back_free_heap`.
_HEAP_AFTER_FREE = """
import psutil

process = psutil.Process()
before = process.memory_info().rss
freed = b"x" * (2 << 20)
del freed  # glibc's default: the mmap threshold rises to 2 MB, so 1 MB blocks use the heap
blocks = [b"x" * (1 << 20) for _ in range(200)]
lasting = blocks[9::10]  # 20 MB that stay, spread over the 200 MB
del blocks
kept = (process.memory_info().rss - before) / 2**20
from flows import heap

heap.give_back_free_heap()
print(kept, (process.memory_info().rss - before) / 2**20)
"""


@pytest.mark.skipif(heap._LIBC is None, reason="glibc only")
def test_the_free_heap_is_given_back():
    kept, given_back = _printed_numbers(_HEAP_AFTER_FREE)
    assert kept > 150  # the freed blocks between the lasting ones stay resident
    assert given_back < 40


# A 16 MB block freed (by default glibc then raises its mmap threshold to 16 MB), then
# 25 blocks of 8 MB of which every fifth stays: the MB resident once the others are freed.
_LARGE_BLOCKS_AFTER_FREE = """
import os
import psutil

if os.environ.get("IMPORT_FLOWS_FIRST"):
    import flows  # noqa: F401

process = psutil.Process()
before = process.memory_info().rss
freed = b"x" * (16 << 20)
del freed
blocks = [b"x" * (8 << 20) for _ in range(25)]
lasting = blocks[4::5]  # 40 MB that stay, spread over the 200 MB
del blocks
print((process.memory_info().rss - before) / 2**20)
"""


@pytest.mark.skipif(heap._LIBC is None, reason="glibc only")
def test_the_pipelines_processes_map_large_blocks_apart():
    (mapped_apart,) = _printed_numbers(_LARGE_BLOCKS_AFTER_FREE, {**os.environ, "IMPORT_FLOWS_FIRST": "1"})
    assert mapped_apart < 60  # only the lasting blocks are resident
    env = {k: v for k, v in os.environ.items() if k != "IMPORT_FLOWS_FIRST"}
    (carved_from_heap,) = _printed_numbers(_LARGE_BLOCKS_AFTER_FREE, env)
    assert carved_from_heap > 150  # glibc's defaults: the freed blocks between them stay
