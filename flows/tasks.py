"""Thin Prefect tasks around the pure stage functions in `flows.steps`.

The per-file stages (decode, clean, repair, segment) run as one `restore` task per `Chunk`
of files, never per paragraph, so the task runner can spread chunks over cores or a Dask
cluster; the batch stages work on one wave of chunks at a time (flows/ingest.py). The text
work of `restore` and `tokenize` is in `flows.text_work`, and runs on the process runner's
lean workers (`flows.pool`) when there are some.

Every task here has `cache_policy=NO_CACHE`: Prefect otherwise computes a cache key for
each task run by pickling and hashing all its inputs (whole frames of a wave), even when
results are never cached or persisted, as here (a run's output is the warehouse).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFutureList

from flows import pool, text_work
from flows.artifacts import add_stage_seconds, record_stage_seconds
from flows.steps.dedup import mark_duplicates
from flows.steps.model import SourceFile
from flows.text_work import Chunk, Restored, WordTables
from schemas.contract import QUARANTINE_SCHEMA, RECORD_TABLES, StoredKeys, validate_batch
from warehouse import db as warehouse
from warehouse.dedup_index import run_history
from warehouse.staging import WORD_TABLES, Staging

T = TypeVar("T")


def _runs_of_size(items: list[T], size_of: Callable[[T], int], max_bytes: int) -> list[list[T]]:
    """Consecutive items in groups of about `max_bytes` (at least one item each), in order."""
    groups: list[list[T]] = []
    size = max_bytes
    for item in items:
        if size >= max_bytes:
            groups.append([])
            size = 0
        groups[-1].append(item)
        size += size_of(item)
    return groups


def chunk_files(files: list[SourceFile], max_bytes: int) -> list[Chunk]:
    """Group files into chunks of about `max_bytes`, keeping inbox order."""
    chunks = [Chunk(group) for group in _runs_of_size(files, lambda f: f.size_bytes, max_bytes)]
    for c in chunks:
        others = len(c.files) - 1
        more = f" +{others} file{'s' if others > 1 else ''}" if others else ""
        c.label = c.files[0].path + more
    return chunks


def waves_of(chunks: list[Chunk], max_bytes: int) -> list[list[Chunk]]:
    """Consecutive chunks in waves of about `max_bytes` of files: what a run holds at once."""
    return _runs_of_size(chunks, lambda c: sum(f.size_bytes for f in c.files), max_bytes)


@task(task_run_name="restore {label}", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def restore(chunk: Chunk, label: str) -> Restored:
    """decode -> clean -> repair -> segment, for every file of the chunk, on a worker."""
    return pool.run(text_work.restore_chunk, chunk)


# --- batch stages ---------------------------------------------------------------------


@dataclass
class Batch:
    """The run's rows on their way to the warehouse."""

    documents: pl.DataFrame
    articles: pl.DataFrame
    paragraphs: pl.DataFrame
    quarantine: pl.DataFrame | None = None
    dedup_index: dict[str, pl.DataFrame] = field(default_factory=dict)  # index rows + history updates
    failed_rows: int = 0  # quarantined rows of the tables of record (documents, articles, paragraphs)


def to_batch(restored: list[Restored]) -> Batch:
    return Batch(
        documents=pl.concat([r.documents for r in restored]),
        articles=pl.concat([r.articles for r in restored]),
        paragraphs=pl.concat([r.paragraphs for r in restored]),
    )


@task(on_completion=[record_stage_seconds], cache_policy=NO_CACHE)
def dedup(batch: Batch, db_path: str, staging: Staging) -> Batch:
    """Against the batch itself, the warehouse and the run's earlier waves."""
    result = mark_duplicates(batch.paragraphs, batch.documents, run_history(db_path, staging))
    batch.paragraphs = result.paragraphs
    batch.dedup_index = {**result.index, "dedup_updates": result.history_updates}
    return batch


def texts_to_tokenize(batch: Batch) -> pl.DataFrame:
    """Unique paragraphs and article headings: the only text search and keywords need.

    An article's heading row holds its kicker, title and subtitle (济南 / 四级就业服务机构 /
    现场“解题”): the place and topic words of a story are often only there.
    """
    paragraphs = batch.paragraphs.filter(pl.col("dup_status") == "unique").select(
        "paragraph_id", "article_id", "text"
    )
    heading = pl.concat_str(["kicker", "title", "subtitle"], separator=" ", ignore_nulls=True)
    titles = batch.articles.filter(heading.str.len_chars() > 0).select(
        (pl.col("article_id") + "-title").alias("paragraph_id"), "article_id", heading.alias("text")
    )
    return pl.concat([titles, paragraphs])


def split_by_article(rows: pl.DataFrame, max_bytes: int) -> list[pl.DataFrame]:
    """Texts in parts of about `max_bytes` for the task runner to spread over its workers.

    An article's texts stay in one part: its keywords are weighed over all its words.
    """
    if rows.height == 0:  # nothing to cut: no task, so a process pool starts no worker
        return []
    sizes = rows.group_by("article_id", maintain_order=True).agg(pl.col("text").str.len_bytes().sum())
    parts = sizes.select("article_id", ((pl.col("text").cum_sum() - 1) // max(max_bytes, 1)).alias("part"))
    return rows.join(parts, on="article_id", maintain_order="left").partition_by(
        "part", maintain_order=True, include_key=False
    )


def cutting_tasks(texts: pl.DataFrame, part_bytes: int, task_bytes: int) -> list[list[pl.DataFrame]]:
    """The texts in parts of about `part_bytes` (`split_by_article`), the parts in
    consecutive groups of about `task_bytes`: one tokenize task each."""
    return _runs_of_size(
        split_by_article(texts, part_bytes), lambda part: part["text"].str.len_bytes().sum(), task_bytes
    )


def join_words(parts: list[tuple[WordTables, dict[str, float]]]) -> WordTables:
    """The quarantined rows of all parts of a wave (their words and keywords are staged by
    the workers), and their stage times."""
    for _, seconds in parts:
        for stage_name, s in seconds.items():
            add_stage_seconds(stage_name, s)
    quarantine = [words["quarantine"] for words, _ in parts]
    # No part: nothing to cut (every file of the wave rejected, or only duplicates).
    return {"quarantine": pl.concat(quarantine) if quarantine else pl.DataFrame(schema=QUARANTINE_SCHEMA)}


class Cutting:
    """Each wave's texts cut into words on the workers while the flow goes on with the next
    wave (dedup, validate and staging run in the flow process, jieba in the workers). The
    workers write the words and keywords into the run's staging themselves.

    The texts go to the workers in parts of `part_bytes` (what bounds a worker's memory,
    `ingest_news`), and to the task runner in tasks of about `task_bytes`, several parts
    each, cut one after another: a task run costs the flow's process and the Prefect API
    ~30 ms of CPU (150 tasks that do nothing: 3.0-4.4 CPU s of the API server, 0.6-0.8 s
    of the flow's process), and a task per 1 MB part made 88 of the 100 MB load's 156
    task runs (now 25 of 93; docs/performance.md).
    """

    def __init__(self, part_bytes: int, task_bytes: int, staging: Staging) -> None:
        self.part_bytes = part_bytes
        self.task_bytes = task_bytes
        self.staging = staging
        self.waves = 0
        self.in_flight: list[PrefectFutureList] = []

    def submit(self, texts: pl.DataFrame) -> None:
        self.waves += 1
        tasks = cutting_tasks(texts, self.part_bytes, self.task_bytes)
        files = [
            [
                self.staging.part_files(f"words-{self.waves:06d}-{t:04d}-{i:02d}", WORD_TABLES)
                for i in range(len(parts))
            ]
            for t, parts in enumerate(tasks)
        ]
        labels = [f"{sum(part.height for part in parts)} texts in {len(parts)} parts" for parts in tasks]
        self.in_flight.append(tokenize.map(tasks, files, labels))

    def finished(self, leave: int = 0) -> Iterator[WordTables]:
        """Quarantined words of the waves submitted, oldest first, but the newest `leave`
        (still cutting)."""
        while len(self.in_flight) > leave:
            yield join_words([part for task in self.in_flight.pop(0).result() for part in task])


@task(task_run_name="tokenize {label}", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def tokenize(
    parts: list[pl.DataFrame], write_to: list[dict[str, Path]], label: str
) -> list[tuple[WordTables, dict[str, float]]]:
    """The words of each part's texts and their articles' keywords, through their
    contracts, on the workers one part after another, written to the part's staging
    files `write_to`; their quarantined rows handed back."""
    return [pool.run(text_work.cut_words, rows, files) for rows, files in zip(parts, write_to, strict=True)]


def _stored_keys(db_path: str, staging: Staging) -> StoredKeys:
    """Foreign-key parents in the warehouse or in the run's earlier waves (staged)."""

    def stored_keys(table: str, column: str, values: list[str]) -> set[str]:
        return warehouse.stored_keys(db_path, table, column, values) | staging.stored_keys(
            table, column, values
        )

    return stored_keys


@task(on_completion=[record_stage_seconds], cache_policy=NO_CACHE)
def validate(batch: Batch, db_path: str, staging: Staging) -> Batch:
    """The rows of record through their contracts (schemas/contract.py); bad rows and their
    children quarantined."""
    tables = {"documents": batch.documents, "articles": batch.articles, "paragraphs": batch.paragraphs}
    result = validate_batch(tables, _stored_keys(db_path, staging))
    batch.documents, batch.articles, batch.paragraphs = (result.tables[t] for t in RECORD_TABLES)
    batch.quarantine = result.quarantine
    batch.failed_rows = result.failed_rows()
    return batch


@task(on_completion=[record_stage_seconds], cache_policy=NO_CACHE)
def stage(tables: dict[str, pl.DataFrame], staging: Staging) -> None:
    """Set a wave's rows aside until the load (memory is then one wave, whatever the run)."""
    staging.append(tables)


@task(on_completion=[record_stage_seconds], cache_policy=NO_CACHE)
def load(staging: Staging, db_path: str, tables: tuple[str, ...] | None = None) -> None:
    """Every staged table (or only `tables`) into the warehouse, in one transaction."""
    warehouse.load_staged(db_path, staging.path, staging.file_tables(), tables)
