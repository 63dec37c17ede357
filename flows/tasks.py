"""Thin Prefect tasks around the pure stage functions in `flows.steps`.

The per-file stages (decode, clean, repair, segment) run as one `restore` task per `Chunk`
of files, never per paragraph, so the task runner can spread chunks over cores or a Dask
cluster; the batch stages work on one wave of chunks at a time (flows/ingest.py).

Every task here has `cache_policy=NO_CACHE`: Prefect otherwise computes a cache key for
each task run by pickling and hashing all its inputs (whole frames of a wave), even when
results are never cached or persisted, as here (a run's output is the warehouse).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFutureList

from flows.artifacts import add_stage_seconds, record_stage_seconds
from flows.steps import clean as clean_step
from flows.steps import decode as decode_step
from flows.steps import discover as discover_step
from flows.steps import repair as repair_step
from flows.steps import segment as segment_step
from flows.steps import tokenize as tokenize_step
from flows.steps.dedup import mark_duplicates
from flows.steps.model import CleanStats, ParsedDocument, SourceFile
from flows.steps.tables import articles_frame, documents_frame, paragraphs_frame
from schemas.contract import QUARANTINE_SCHEMA, RECORD_TABLES, StoredKeys, validate_batch
from warehouse import db as warehouse
from warehouse.dedup_index import run_history
from warehouse.staging import Staging

T = TypeVar("T")


class Chunk:
    """Files processed together by one task of each per-file stage.

    Not a dataclass on purpose: Prefect walks dataclass (and list, dict) task parameters
    field by field looking for futures to resolve, and a chunk holds thousands of
    documents, articles and paragraphs: 0.35 s per 4 MB chunk and stage in the flow
    process, and again in the worker. An object of a plain class is one value to it.
    """

    def __init__(self, docs: list[ParsedDocument], label: str = "") -> None:
        self.docs = docs
        self.label = label  # names the chunk's task runs: its first file, and how many more
        self.seconds: dict[str, float] = {}

    def timed(self, stage: str, fn: Callable[[ParsedDocument], None]) -> Chunk:
        start = time.perf_counter()
        for doc in self.docs:
            if not doc.rejected:
                fn(doc)
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start
        return self


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
    chunks = [
        Chunk([ParsedDocument(file=f) for f in group])
        for group in _runs_of_size(files, lambda f: f.size_bytes, max_bytes)
    ]
    for c in chunks:
        others = len(c.docs) - 1
        more = f" +{others} file{'s' if others > 1 else ''}" if others else ""
        c.label = c.docs[0].file.path + more
    return chunks


def waves_of(chunks: list[Chunk], max_bytes: int) -> list[list[Chunk]]:
    """Consecutive chunks in waves of about `max_bytes` of files: what a run holds at once."""
    return _runs_of_size(chunks, lambda c: sum(d.file.size_bytes for d in c.docs), max_bytes)


# --- per-file stages ------------------------------------------------------------------


def decode_doc(doc: ParsedDocument) -> None:
    data = discover_step.read_source(doc.file)  # None: gone or changed since discover (reason set)
    if data is None:
        return
    try:
        decoded = decode_step.decode_bytes(data)
    except decode_step.DecodeError as exc:
        doc.file.reject_reason = str(exc)
        return
    doc.text, doc.encoding = decoded.text, decoded.encoding


def clean_doc(doc: ParsedDocument) -> None:
    assert doc.text is not None
    page = clean_step.clean_page(doc.text)
    doc.clean, doc.script, doc.meta, doc.stats, doc.text = page, page.script, page.meta, page.stats, None


def repair_doc(doc: ParsedDocument) -> None:
    assert doc.clean is not None
    doc.paragraphs = repair_step.repair_blocks(doc.clean.blocks)
    doc.joins = sum(p.joined_from - 1 for p in doc.paragraphs)
    doc.clean = None


def segment_doc(doc: ParsedDocument) -> None:
    assert doc.paragraphs is not None
    doc.articles = segment_step.segment_page(doc.paragraphs, doc.meta)
    doc.paragraphs = None
    if not doc.articles:  # a rejected row says so; a loaded one with nothing in it would not
        doc.file.reject_reason = "no text: the page holds only whitespace, navigation or boilerplate"


class Restored:
    """A chunk after the per-file stages, as the flow goes on with it: its rows as frames,
    and the counts the run's summary adds up.

    Frames, not the chunk's objects: unpickling a 4 MB chunk's documents, articles and
    paragraphs took 0.14 s in the flow process (a run's critical path), its frames 0.01 s.
    Not a dataclass, for the reason `Chunk` is not one.
    """

    def __init__(self, chunk: Chunk) -> None:
        docs = chunk.docs
        self.documents = documents_frame(docs)
        self.articles = articles_frame(docs)
        self.paragraphs = paragraphs_frame(docs)
        self.files = len(docs)
        self.rejected = sum(d.rejected for d in docs)
        self.joins = sum(d.joins for d in docs)
        self.stats = CleanStats.total(d.stats for d in docs)
        self.seconds = chunk.seconds


@task(task_run_name="restore {label}", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def restore(chunk: Chunk, label: str) -> Restored:
    """decode -> clean -> repair -> segment, for every file of the chunk, in one task.

    One task per chunk, not per stage: each task hands its chunk back to the flow process
    and out again (pickled both ways), which cost more than repair and segment themselves.
    Each stage is still timed on its own (`Chunk.seconds`).
    """
    return Restored(
        chunk.timed("decode", decode_doc)
        .timed("clean", clean_doc)
        .timed("repair", repair_doc)
        .timed("segment", segment_doc)
    )


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
    result = mark_duplicates(batch.paragraphs, batch.documents, run_history(db_path, staging.path))
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


# tokens (as `cut_word_lists` gives them: one row per text), article_keywords and their quarantined rows
WordTables = dict[str, pl.DataFrame]


def join_words(parts: list[tuple[WordTables, dict[str, float]]]) -> WordTables:
    """The words, keywords and quarantined rows of all parts of a wave, and their stage times."""
    if not parts:  # nothing to cut: every file of the wave rejected, or only duplicates
        return {
            "tokens": pl.DataFrame(schema=tokenize_step.WORD_LIST_SCHEMA),
            "article_keywords": pl.DataFrame(schema=tokenize_step.KEYWORD_SCHEMA),
            "quarantine": pl.DataFrame(schema=QUARANTINE_SCHEMA),
        }
    for _, seconds in parts:
        for stage_name, s in seconds.items():
            add_stage_seconds(stage_name, s)
    return {
        table: pl.concat([words[table] for words, _ in parts])
        for table in ("tokens", "article_keywords", "quarantine")
    }


class Cutting:
    """Each wave's texts cut into words on the workers while the flow goes on with the next
    wave (dedup, validate and staging run in the flow process, jieba in the workers)."""

    def __init__(self, part_bytes: int) -> None:
        self.part_bytes = part_bytes
        self.in_flight: list[PrefectFutureList] = []

    def submit(self, texts: pl.DataFrame) -> None:
        self.in_flight.append(tokenize.map(split_by_article(texts, self.part_bytes)))

    def finished(self, leave: int = 0) -> Iterator[WordTables]:
        """Words of the waves submitted, oldest first, but the newest `leave` (still cutting)."""
        while len(self.in_flight) > leave:
            yield join_words(self.in_flight.pop(0).result())


@task(task_run_name="tokenize {rows.height} texts", cache_policy=NO_CACHE)
def tokenize(rows: pl.DataFrame) -> tuple[WordTables, dict[str, float]]:
    """Words of each text, cut once, and the articles' keywords computed from those words,
    through their contracts; and the seconds each took (timed here: a worker process runs
    no hook of the flow's process).

    Validated here, in the worker, not in the flow process: every parent a word or keyword
    may name is one of `rows` (validated paragraphs and article titles), so the contract's
    foreign keys need no database.
    """
    start = time.perf_counter()
    lists = tokenize_step.cut_word_lists(rows)
    words = {
        "tokens": lists,
        "article_keywords": tokenize_step.article_keywords(tokenize_step.words_of(lists)),
    }
    cut = time.perf_counter()
    checked = check_words(words, rows)
    return checked, {"tokenize": cut - start, "validate_words": time.perf_counter() - cut}


def check_words(words: dict[str, pl.DataFrame], rows: pl.DataFrame) -> WordTables:
    """The words and keywords of `rows` through their contracts, with their quarantined rows."""
    parents = {"paragraphs": set(rows["paragraph_id"]), "articles": set(rows["article_id"])}
    result = validate_batch(words, lambda table, _column, values: parents[table].intersection(values))
    return {**result.tables, "quarantine": result.quarantine}


def _stored_keys(db_path: str, staging: Staging) -> StoredKeys:
    """Foreign-key parents in the warehouse or in the run's earlier waves (staged)."""

    def stored_keys(table: str, column: str, values: list[str]) -> set[str]:
        return warehouse.stored_keys(db_path, table, column, values) | warehouse.stored_keys(
            staging.path, table, column, values
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
