"""Waves: a run taken in many small waves loads exactly what one batch would.

Later waves must see earlier ones as history (exact, near and contained copies across
waves, and a stored fragment demoted by a complete paragraph of a later wave), their
foreign keys must resolve into earlier waves, and the staging file must go however the
run ends.
"""

from __future__ import annotations

import gc
from pathlib import Path

import duckdb
import polars as pl
import pytest

from bench.corpus import write_corpus
from bench.wave_boundaries import differing
from flows.ingest import heap_frozen
from flows.steps import discover
from flows.tasks import chunk_files, waves_of
from tests.conftest import data_checksums, read_only_query
from tests.test_dedup import GRID, PARTY
from warehouse.staging import STAGING_DIR

FRAGMENT = GRID[138:429]  # whole sentences: repair leaves it a paragraph of its own
TINY_MB = "0.0001"  # every file its own chunk, every chunk its own wave


@pytest.fixture
def corpus_inbox(tmp_path: Path) -> Path:
    """~17 generated pages with copies across files, a fragment first and its whole last."""
    inbox = tmp_path / "inbox"
    write_corpus(inbox, 0.2, seed=5)
    # Load order is by path: "0-" sorts before the generated "0000000_…", "zz" after.
    (inbox / "0-fragment.txt").write_text(f"{FRAGMENT}\n\n{PARTY}\n", encoding="utf-8")
    (inbox / "zz-complete.txt").write_text(f"{GRID}\n", encoding="utf-8")
    return inbox


def test_one_wave_per_file_loads_the_same_tables_as_one_batch(run_flow, corpus_inbox, tmp_path, monkeypatch):
    one_batch = tmp_path / "one-batch.duckdb"
    run_flow(corpus_inbox, one_batch)

    monkeypatch.setenv("NEWSETL_CHUNK_MB", TINY_MB)
    monkeypatch.setenv("NEWSETL_WAVE_MB", TINY_MB)
    files = discover.list_inbox(corpus_inbox)
    assert len(waves_of(chunk_files(files, 1), 1)) == len(files) > 15
    in_waves = tmp_path / "waves.duckdb"
    summary = run_flow(corpus_inbox, in_waves)

    assert data_checksums(in_waves) == data_checksums(one_batch)
    # The comparison means something only if copies crossed waves.
    assert summary.dup_exact > 0 and summary.dup_near > 0 and summary.dup_contained > 0
    q = read_only_query(in_waves)
    fragment = q(
        "SELECT p.dup_status, k.text FROM paragraphs p JOIN paragraphs k ON k.paragraph_id = p.dup_of "
        "WHERE p.doc_id IN (SELECT doc_id FROM documents WHERE path = '0-fragment.txt') AND p.seq = 0"
    )
    assert fragment == [("contained", GRID)]  # demoted by the last wave, in the same load
    # The run's summary and its runs row count the paragraphs as loaded, the fragment an
    # earlier wave kept included.
    statuses = dict(q("SELECT dup_status, count(*) FROM paragraphs GROUP BY dup_status"))
    loaded = (statuses["exact"], statuses["near"], statuses["contained"])
    assert (summary.dup_exact, summary.dup_near, summary.dup_contained) == loaded
    assert q("SELECT dup_exact, dup_near, dup_contained FROM runs") == [loaded]
    assert not (tmp_path / STAGING_DIR).exists()


def test_staging_left_by_a_killed_run_is_removed_by_the_next(run_flow, inbox, db_path):
    stale = db_path.parent / STAGING_DIR / "20260101T000000-dead01.duckdb"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left by a run killed before its load")
    run_flow(inbox, db_path)
    assert not stale.parent.exists()


def test_a_wave_with_nothing_to_tokenize_loads(run_flow, tmp_path, monkeypatch):
    # The second wave's only file repeats the first's page: no text of it is cut into words.
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    page = f"{GRID}\n\n{PARTY}\n"
    (inbox / "a.txt").write_text(page, encoding="utf-8")
    (inbox / "b.txt").write_text(page + "\n", encoding="utf-8")  # other bytes, same paragraphs
    monkeypatch.setenv("NEWSETL_CHUNK_MB", TINY_MB)
    monkeypatch.setenv("NEWSETL_WAVE_MB", TINY_MB)
    summary = run_flow(inbox, tmp_path / "w.duckdb")
    assert (summary.files_new, summary.dup_exact, summary.status) == (2, 2, "completed")


def test_the_heap_is_frozen_only_while_the_waves_run():
    # Frozen objects are never collected: a long-lived process (`newsetl serve`) must get
    # them back into the collections once the run is over, however it ends.
    with pytest.raises(RuntimeError), heap_frozen():
        assert gc.get_freeze_count() > 0
        raise RuntimeError("a wave failed")
    assert gc.get_freeze_count() == 0


def test_wave_boundaries_bench_finds_a_paragraph_that_ended_differently(
    corpus_inbox, run_flow, tmp_path, monkeypatch
):
    # bench.wave_boundaries compares two loads of one inbox paragraph by paragraph: the
    # same outcome (one wave per file against one wave) is no difference; a changed
    # status is reported with both outcomes.
    run_flow(corpus_inbox, tmp_path / "one.duckdb")
    monkeypatch.setenv("NEWSETL_WAVE_MB", TINY_MB)
    run_flow(corpus_inbox, tmp_path / "many.duckdb")
    counts, rows = differing(tmp_path / "one.duckdb", tmp_path / "many.duckdb")
    assert rows == [] and counts["a"] == counts["b"]

    con = duckdb.connect(str(tmp_path / "many.duckdb"))
    pid = con.execute("SELECT paragraph_id FROM paragraphs WHERE dup_status = 'exact' LIMIT 1").fetchone()[0]
    con.execute(
        "UPDATE paragraphs SET dup_status = 'unique', dup_of = NULL, similarity = NULL WHERE paragraph_id = ?",
        [pid],
    )
    con.close()
    _counts, rows = differing(tmp_path / "one.duckdb", tmp_path / "many.duckdb")
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [(pid, "exact", "unique", None)]


def test_each_wave_leaves_the_plan_once_it_is_restored(prefect_backend, inbox):
    # A backlog's plan (one SourceFile per file) shrinks as the run goes, not at its end.
    import weakref

    from prefect import flow

    from flows.artifacts import Progress
    from flows.ingest import restored

    files = discover.new_file_versions(discover.list_inbox(inbox), {}, set())
    waves = waves_of(chunk_files(files, 1), 1)  # one file per wave
    first_chunk = weakref.ref(waves[0][0])
    del files

    @flow
    def restore_the_waves() -> list[tuple[int, bool]]:
        seen = []
        for pages in restored(waves, Progress(len(waves))):
            gc.collect()
            seen.append((len(waves), first_chunk() is None))
            assert pages[0].files == 1
        return seen

    seen = restore_the_waves()
    # The next wave is taken out as the current one is handed over, and nothing holds a
    # restored wave's chunks (and their files) for long: the first is gone by the last
    # wave (its task run's thread may still hold it for a moment after its result).
    assert [left for left, _ in seen] == [3, 2, 1, 0, 0]
    assert seen[-1][1], seen


def test_staged_paragraphs_are_files_that_answer_the_key_lookups(tmp_path):
    # A wave's paragraphs are staged as Parquet, not in the staging database: the later
    # waves' contract still finds them as the parents of `dup_of`, and the load reads them.
    from warehouse.staging import Staging

    paragraphs = pl.DataFrame({"paragraph_id": ["p1", "p2"], "text": ["一", "二"]})
    documents = pl.DataFrame({"doc_id": ["d1", "d2"], "path": ["a", "b"], "status": ["loaded", "rejected"]})
    with Staging(tmp_path / "news.duckdb", "run") as staging:
        assert staging.stored_keys("paragraphs", "paragraph_id", ["p1"]) == set()  # nothing staged yet
        staging.append({"paragraphs": paragraphs.head(1), "documents": documents})
        staging.append({"paragraphs": paragraphs.tail(1)})
        assert staging.stored_keys("paragraphs", "paragraph_id", ["p1", "p2", "p3"]) == {"p1", "p2"}
        assert staging.stored_keys("documents", "doc_id", ["d1", "d2"]) == {"d1"}  # loaded ones only
        assert sorted(p.name for p in (staging.files / "paragraphs").iterdir()) == [
            "000001.parquet",
            "000002.parquet",
        ]
        assert duckdb.sql(f"SELECT count(*) FROM {staging.file_tables()['paragraphs']}").fetchall() == [(2,)]
        with duckdb.connect(str(staging.path), read_only=True) as con:
            assert "paragraphs" not in {r[0] for r in con.execute("SHOW TABLES").fetchall()}
