"""The text work of one chunk of files or one part of texts: what the worker processes run.

Prefect-free, and free of DuckDB: the worker processes of the process runner
(`flows.pool`) import only this module and the text libraries it needs (polars, OpenCC,
jieba, the contracts), not Prefect's engine as well: 215-240 MB each while they work,
against 340-350 MB under Prefect's process pool (docs/performance-log.md). The
Prefect tasks around these functions (`flows.tasks.restore`, `flows.tasks.tokenize`) run
in the flow's process and hand the work to a worker.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

from flows.steps import clean as clean_step
from flows.steps import decode as decode_step
from flows.steps import discover as discover_step
from flows.steps import repair as repair_step
from flows.steps import segment as segment_step
from flows.steps import tokenize as tokenize_step
from flows.steps.model import CleanStats, ParsedDocument, SourceFile
from flows.steps.tables import articles_frame, documents_frame, paragraphs_frame
from schemas.contract import validate_batch


class Chunk:
    """Files processed together by one task of each per-file stage.

    Not a dataclass on purpose: Prefect walks dataclass (and list, dict) task parameters
    field by field looking for futures to resolve, and a chunk holds thousands of
    documents, articles and paragraphs: 0.35 s per 4 MB chunk and stage in the flow
    process, and again in the worker. An object of a plain class is one value to it.
    """

    def __init__(self, files: list[SourceFile], label: str = "") -> None:
        self.files = files
        self.label = label  # names the chunk's task runs: its first file, and how many more
        self.seconds: dict[str, float] = {}
        self._docs: list[ParsedDocument] | None = None

    @property
    def docs(self) -> list[ParsedDocument]:
        """The chunk's pages, made where the stages first run on them: not in the flow's
        process, which holds every chunk of a run's plan (88,000 files for 1 GB: 38 MB of
        empty documents)."""
        if self._docs is None:
            self._docs = [ParsedDocument(file=f) for f in self.files]
        return self._docs

    def timed(self, stage: str, fn: Callable[[ParsedDocument], None]) -> Chunk:
        start = time.perf_counter()
        for doc in self.docs:
            if not doc.rejected:
                fn(doc)
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start
        return self


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


def restore_chunk(chunk: Chunk) -> Restored:
    """decode -> clean -> repair -> segment, for every file of the chunk, in one go.

    One piece of work per chunk, not per stage: each hands its chunk back to the flow's
    process and out again (pickled both ways), which cost more than repair and segment
    themselves. Each stage is still timed on its own (`Chunk.seconds`).
    """
    return Restored(
        chunk.timed("decode", decode_doc)
        .timed("clean", clean_doc)
        .timed("repair", repair_doc)
        .timed("segment", segment_doc)
    )


# tokens (one row per word, `words_of`), article_keywords and their quarantined rows
WordTables = dict[str, pl.DataFrame]


def cut_words(
    rows: pl.DataFrame, write_to: dict[str, Path] | None = None
) -> tuple[WordTables, dict[str, float]]:
    """Words of each text, cut once, and the articles' keywords computed from those words,
    through their contracts; and the seconds each took (timed here: a worker process runs
    no hook of the flow's process).

    Validated here, in the worker, not in the flow process: every parent a word or keyword
    may name is one of `rows` (validated paragraphs and article titles), so the contract's
    foreign keys need no database.

    The tables named in `write_to` are written to those Parquet files (a run's staging,
    `warehouse.staging.Staging.part_files`) and not handed back: a run's words are most of
    its rows, and sent back they were unpickled and held by the flow's process until the
    next wave had been deduplicated, then written by it.
    """
    start = time.perf_counter()
    lists = tokenize_step.cut_word_lists(rows)
    words = {
        "tokens": lists,
        "article_keywords": tokenize_step.article_keywords(tokenize_step.words_of(lists)),
    }
    cut = time.perf_counter()
    checked = check_words(words, rows)
    # As the warehouse stores them, one row per word: staged so, the load copies them
    # (the 100 MB load's words: 1.6 s, against 1.9 s to unnest lists staged one per text).
    checked["tokens"] = tokenize_step.words_of(checked["tokens"])
    seconds = {"tokenize": cut - start, "validate_words": time.perf_counter() - cut}
    if write_to:
        written = time.perf_counter()
        for table, path in write_to.items():
            write_parquet(checked.pop(table), path)
        seconds["stage_words"] = time.perf_counter() - written
        _die_for_fault_test()
    return checked, seconds


def _die_for_fault_test() -> None:
    """Test hook (tests/test_runners.py): with NEWSETL_FAULT_KILL_CUTTER=<file>, the first
    worker to stage a part's words creates the file and ends at once, as a worker killed
    by the kernel would, its part's files written and its task not finished. Unset
    (always, outside that test), it does nothing."""
    marker = os.environ.get("NEWSETL_FAULT_KILL_CUTTER")
    if not marker:
        return
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
    except FileExistsError:  # another worker died for the test already
        return
    os._exit(1)


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    """`frame` as the Parquet file `path`, whole or not at all (a task retried after its
    worker died rewrites it); nothing for an empty frame."""
    if frame.height == 0:
        return
    partial = path.with_name(path.name + ".partial")
    frame.write_parquet(partial)
    partial.replace(path)


def check_words(words: dict[str, pl.DataFrame], rows: pl.DataFrame) -> WordTables:
    """The words and keywords of `rows` through their contracts, with their quarantined rows."""
    parents = {"paragraphs": set(rows["paragraph_id"]), "articles": set(rows["article_id"])}
    result = validate_batch(words, lambda table, _column, values: parents[table].intersection(values))
    return {**result.tables, "quarantine": result.quarantine}
