"""The `ingest_news` flow: new pages in the inbox -> clean, deduplicated, validated warehouse."""

from __future__ import annotations

import time
import uuid
from dataclasses import fields
from pathlib import Path

import polars as pl
from prefect import flow, get_run_logger, task

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
    chunk_files,
    clean,
    decode,
    dedup,
    join_tokens,
    load,
    repair,
    segment,
    split_by_article,
    texts_to_tokenize,
    to_batch,
    tokenize,
    validate,
)
from warehouse import db as warehouse
from warehouse.lock import run_lock


class RunFailed(RuntimeError):
    """The run could not complete; the message is the one-line reason users see."""


@task(retries=2, retry_delay_seconds=1)
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
    with run_lock(db, settings.lock_wait_seconds):
        run.files_seen, new_files = discover(inbox, db, settings.max_file_bytes)
        chunks = chunk_files(new_files, settings.chunk_bytes)
        progress = Progress(len(chunks))

        labels = [c.label for c in chunks]
        decoded = decode.map(chunks, labels)
        cleaned = clean.map(decoded, labels)
        repaired = repair.map(cleaned, labels)
        segmented = progress.follow(segment.map(repaired, labels))

        batch = dedup(to_batch(segmented), db)
        texts = split_by_article(texts_to_tokenize(batch), settings.chunk_bytes)
        batch.tokens, batch.article_keywords = join_tokens(tokenize.map(texts).result())
        batch = validate(batch, db)

        _count(run, segmented, batch)
        run.seconds = time.perf_counter() - t0
        load(_tables(run, batch, started_at), db)
        report(run, db, batch.documents, batch.quarantine, progress)
        if run.status == "failed":
            raise RunFailed(run.message or "run failed")
        return run


def _count(run: RunSummary, chunks: list[Chunk], batch: Batch) -> None:
    docs = [d for c in chunks for d in c.docs]
    run.files_new = len(docs)
    run.files_rejected = sum(d.rejected for d in docs)
    run.articles = batch.articles.height
    run.paragraphs = batch.paragraphs.height
    status = batch.paragraphs["dup_status"].value_counts()
    counts = dict(zip(status["dup_status"].to_list(), status["count"].to_list(), strict=True))
    run.dup_exact, run.dup_near, run.dup_contained = (
        counts.get(k, 0) for k in ("exact", "near", "contained")
    )
    run.joins = sum(d.joins for d in docs)
    # Every clean-stage counter (CleanStats) is a column of the runs row of the same name.
    for counter in fields(CleanStats):
        setattr(run, counter.name, sum(getattr(d.stats, counter.name) for d in docs))
    for c in chunks:
        for stage, s in c.seconds.items():
            run.stage_seconds[stage] = round(run.stage_seconds.get(stage, 0.0) + s, 3)
    run.quarantined = 0 if batch.quarantine is None else batch.quarantine.height
    # Share of the rows of record (documents, articles, paragraphs) that failed the contract.
    checked = batch.documents.height + batch.articles.height + batch.paragraphs.height + batch.failed_rows
    run.failed_share = batch.failed_rows / checked if checked else 0.0
    if run.failed_share > run.failed_share_limit:
        run.status = "failed"
        run.message = (
            f"{run.failed_share:.1%} of rows failed validation (limit {run.failed_share_limit:.1%}); "
            "nothing was loaded, see the quarantine table"
        )


def _tables(run: RunSummary, batch: Batch, started_at) -> dict[str, pl.DataFrame]:
    """The rows to insert. A failed run stores only its runs row and the quarantine."""
    ingested_at = utc_now()
    row = run.as_row()
    runs = pl.DataFrame(
        [
            {
                **{k: v for k, v in row.items() if k != "stage_seconds"},
                "stage_seconds": pl.Series([row["stage_seconds"]]).struct.json_encode()[0]
                if row["stage_seconds"]
                else "{}",
                "started_at": started_at,
                "finished_at": ingested_at,
            }
        ]
    )
    tables = {"runs": runs}
    if batch.quarantine is not None and batch.quarantine.height:
        tables["quarantine"] = batch.quarantine.with_columns(
            pl.lit(run.run_id).alias("run_id"), pl.lit(ingested_at).alias("quarantined_at")
        )
    if run.status == "failed":
        return tables
    tables["documents"] = batch.documents.with_columns(
        pl.lit(run.run_id).alias("run_id"), pl.lit(ingested_at).alias("ingested_at")
    )
    tables["articles"] = batch.articles
    tables["paragraphs"] = batch.paragraphs
    tables.update(loadable_index(batch.dedup_index, batch.paragraphs))
    if batch.tokens is not None:
        tables["tokens"] = batch.tokens
    if batch.article_keywords is not None:
        tables["article_keywords"] = batch.article_keywords
    tables["lexicon"] = lexicon_frame()
    return tables
