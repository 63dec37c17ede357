"""The `ingest_news` flow: new pages in the inbox -> clean, deduplicated, validated warehouse."""

from __future__ import annotations

import gc
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from pathlib import Path

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFutureList

from flows import heap, runners
from flows.artifacts import Progress, report
from flows.config import Settings
from flows.steps import discover as discover_step
from flows.steps.dedup import loadable_index
from flows.steps.model import CleanStats, SourceFile
from flows.steps.report import RunSummary
from flows.steps.tables import utc_now
from flows.steps.tokenize import lexicon_frame
from flows.tasks import (
    Batch,
    Chunk,
    Cutting,
    Restored,
    chunk_files,
    dedup,
    load,
    restore,
    stage,
    texts_to_tokenize,
    to_batch,
    validate,
    waves_of,
)
from warehouse import db as warehouse
from warehouse.lock import run_lock
from warehouse.staging import Staging


class RunFailed(RuntimeError):
    """The run could not complete; the message is the one-line reason users see."""


@task(retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def discover(inbox: str, db_path: str, max_file_bytes: int) -> tuple[int, list[SourceFile]]:
    """All files in the inbox, and the new file versions among them (rejected ones included)."""
    files = discover_step.list_inbox(Path(inbox), max_file_bytes)
    known_by_path, known_ids = warehouse.known_files(db_path)
    new = discover_step.new_file_versions(files, known_by_path, known_ids)
    get_run_logger().info("%d files in %s, %d new", len(files), inbox, len(new))
    return len(files), new


@flow(name="ingest_news", flow_run_name="ingest {inbox}", log_prints=False)
def ingest_news(inbox: str = "seeds", db: str = "warehouse/news.duckdb") -> RunSummary:
    settings = Settings.from_env()
    run = RunSummary(run_id=utc_now().strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6], inbox=inbox)
    run.failed_share_limit = settings.max_failed_share
    started_at, t0 = utc_now(), time.perf_counter()
    if not Path(inbox).is_dir():
        raise RunFailed(f"inbox {inbox} is not a directory")

    # One run at a time per warehouse, from discover to load (warehouse/lock.py).
    with run_lock(db, settings.lock_wait_seconds), Staging(db, run.run_id) as staging:
        run.files_seen, new_files = discover(inbox, db, settings.max_file_bytes)
        waves = waves_of(chunk_files(new_files, settings.chunk_bytes), settings.wave_bytes)
        del new_files  # the plan is `waves` now, and shrinks as they are restored
        progress, tally = Progress(sum(len(w) for w in waves)), Tally(run)

        # Wave by wave, so memory holds one wave whatever the backlog; each wave's rows are
        # staged on disk and the load commits them all at once.
        # Texts go to the workers in parts of a quarter of a chunk: at its peak, cutting
        # words and keywords takes a worker ~30-40 MB per MB of text, restoring pages ~11 MB
        # per MB (`bench.tokenize_memory`: a 2 MB part +64 MB, a 1 MB part +41 MB; the same
        # CPU per MB), a chunk's worth of parts to a task. The parts are not the waves:
        # dedup's results do not depend on them.
        cutting = Cutting(settings.chunk_bytes // 4, settings.chunk_bytes, staging)
        with heap_frozen():
            for pages in restored(waves, progress):  # decode -> clean -> repair -> segment
                batch = dedup(to_batch(pages), db, staging)
                batch = validate(batch, db, staging)
                tally.add(pages, batch)
                stage(wave_tables(run.run_id, batch), staging)
                cutting.submit(texts_to_tokenize(batch))  # tokenize, while the next wave goes on
                for words in cutting.finished(leave=1):
                    stage_any(tally.words(words), staging)
                # A wave's task results may be freed only by the cyclic garbage collector,
                # and a wave of frames allocates too few Python objects to trigger it. With
                # Prefect's process pool (its futures sat in reference cycles: a callback of
                # its `_ChainedFuture` held the future) the flow process grew from 0.45 to
                # 1.25 GB over a 100 MB load without this. Not measured again since the
                # tasks run on threads (`runners.ProcessPoolRunner`); with the heap frozen
                # it costs ~0.01 s a wave.
                gc.collect()
                # What the wave freed back to the system, not kept in glibc's heap between
                # blocks that stay (the history lookups left ~15 MB more each wave).
                heap.give_back_free_heap()
        for words in cutting.finished():
            stage_any(tally.words(words), staging)
        runners.release_workers()  # the rest runs in this process
        heap.give_back_free_heap()  # before the load, the run's largest use of memory

        tally.count_duplicates(staging)
        tally.check_failed_share()
        run.seconds = time.perf_counter() - t0
        stage(run_tables(run, started_at), staging)
        load(staging, db, None if run.status == "completed" else FAILED_RUN_TABLES)
        report(run, db, *staged_outcome(staging), progress)
        if run.status == "failed":
            raise RunFailed(run.message or "run failed")
        return run


@contextmanager
def heap_frozen() -> Iterator[None]:
    """Leave the objects alive now out of the garbage collections until the block ends.

    They live the whole run anyway: the modules, Prefect's client and the run's plan (a
    few objects per file, 440,000 for the 88,000 files of 1 GB). A full collection walks
    them all: 0.3 s per wave at 1 GB, ~40 CPU s of the flow process per GB. Frozen, the
    collection after each wave walks only the wave's own objects (0.13 -> 0.01 s per wave
    at 100 MB). Unfrozen at the end, so that a long-lived process (`newsetl serve`) can
    still collect them.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def stage_any(tables: dict[str, pl.DataFrame], staging: Staging) -> None:
    """`stage` the tables if they hold any row. A wave's words come back from the workers
    as their quarantined rows only (the workers stage the rest), almost always none: a
    task run each, for nothing, in the UI and in the API server's CPU (the 100 MB load's
    13: 5.6-5.8 -> 5.4-5.6 CPU s, two `bench.flow_once` runs each)."""
    if any(frame.height for frame in tables.values()):
        stage(tables, staging)


def restored(waves: list[list[Chunk]], progress: Progress) -> Iterator[list[Restored]]:
    """Each wave's restored chunks, in order. The next wave is submitted to the workers
    before this one is handed out, so they restore it while the flow process deduplicates.

    Takes each wave out of `waves` as it submits it: the plan of a backlog (for 1 GB,
    88,434 files, 30 MB) then shrinks as the run goes, instead of staying whole to its end.
    """

    def submit(wave: list[Chunk]) -> PrefectFutureList:
        return restore.map(wave, [c.label for c in wave])

    ahead = submit(waves.pop(0)) if waves else None
    while ahead is not None:
        current = ahead
        ahead = submit(waves.pop(0)) if waves else None
        yield progress.follow(current)


class Tally:
    """Adds each wave's counts to the run's summary."""

    def __init__(self, run: RunSummary) -> None:
        self.run = run
        self.checked_rows = 0  # rows of record (documents, articles, paragraphs) checked by the contract
        self.failed_rows = 0  # ... and quarantined

    def add(self, restored: list[Restored], batch: Batch) -> None:
        run = self.run
        run.files_new += sum(r.files for r in restored)
        run.files_rejected += sum(r.rejected for r in restored)
        run.articles += batch.articles.height
        run.paragraphs += batch.paragraphs.height
        run.joins += sum(r.joins for r in restored)
        # Every clean-stage counter (CleanStats) is a column of the runs row of the same name.
        stats = CleanStats.total(r.stats for r in restored)
        for counter in fields(CleanStats):
            setattr(run, counter.name, getattr(run, counter.name) + getattr(stats, counter.name))
        for r in restored:
            for stage_name, s in r.seconds.items():
                run.stage_seconds[stage_name] = round(run.stage_seconds.get(stage_name, 0.0) + s, 3)
        run.quarantined += 0 if batch.quarantine is None else batch.quarantine.height
        self.failed_rows += batch.failed_rows
        self.checked_rows += (
            batch.documents.height + batch.articles.height + batch.paragraphs.height + batch.failed_rows
        )

    def count_duplicates(self, staging: Staging) -> None:
        """The run's duplicates as the load stores them, counted once all waves are staged:
        a later wave may demote a fragment an earlier wave kept (and its copies)."""
        statuses = staging.statuses_as_loaded()
        self.run.dup_exact = statuses.get("exact", 0)
        self.run.dup_near = statuses.get("near", 0)
        self.run.dup_contained = statuses.get("contained", 0)

    def words(self, tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        """Count a wave's validated words; their quarantined rows stamped with the run."""
        self.run.quarantined += tables["quarantine"].height
        tables["quarantine"] = stamped_quarantine(self.run.run_id, tables["quarantine"])
        return tables

    def check_failed_share(self) -> None:
        """Fail the run when too large a share of its rows of record failed the contract."""
        run = self.run
        run.failed_share = self.failed_rows / self.checked_rows if self.checked_rows else 0.0
        if run.failed_share > run.failed_share_limit:
            run.status = "failed"
            run.message = (
                f"{run.failed_share:.1%} of rows failed validation (limit {run.failed_share_limit:.1%}); "
                "nothing was loaded, see the quarantine table"
            )


# What a failed run loads: its runs row and the rows that failed the contract.
FAILED_RUN_TABLES = ("runs", "quarantine")


def wave_tables(run_id: str, batch: Batch) -> dict[str, pl.DataFrame]:
    """A wave's rows as the warehouse stores them."""
    tables = {
        "documents": batch.documents.with_columns(
            pl.lit(run_id).alias("run_id"), pl.lit(utc_now()).alias("ingested_at")
        ),
        "articles": batch.articles,
        "paragraphs": batch.paragraphs,
        **loadable_index(batch.dedup_index, batch.paragraphs),
    }
    if batch.quarantine is not None:
        tables["quarantine"] = stamped_quarantine(run_id, batch.quarantine)
    return tables


def stamped_quarantine(run_id: str, quarantine: pl.DataFrame) -> pl.DataFrame:
    return quarantine.with_columns(pl.lit(run_id).alias("run_id"), pl.lit(utc_now()).alias("quarantined_at"))


def run_tables(run: RunSummary, started_at: datetime) -> dict[str, pl.DataFrame]:
    """The run's own row, and the reference tables each run replaces."""
    row = run.as_row()
    runs = pl.DataFrame(
        [
            {
                **{k: v for k, v in row.items() if k != "stage_seconds"},
                "stage_seconds": pl.Series([row["stage_seconds"]]).struct.json_encode()[0]
                if row["stage_seconds"]
                else "{}",
                "started_at": started_at,
                "finished_at": utc_now(),
            }
        ]
    )
    return {"runs": runs, "lexicon": lexicon_frame()}


def staged_outcome(staging: Staging) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The run's documents (path, status, reason) and quarantined rows, for its report."""
    documents = staging.frame("SELECT path, status, reject_reason FROM documents ORDER BY rowid")
    quarantine = staging.frame(
        "SELECT table_name, row_key, check_name, reason FROM quarantine ORDER BY rowid"
    )
    return documents, quarantine
