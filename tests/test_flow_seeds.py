"""End to end: the flow on the five seed pages into a real DuckDB file."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import polars as pl

from tests.conftest import SEEDS, table_checksums

TABLES = ("documents", "articles", "paragraphs", "tokens", "quarantine")


def test_seeds_load_with_the_repeated_003_paragraph_marked(inbox, db_path, run_flow, sql):
    summary = run_flow(inbox, db_path)

    assert summary.status == "completed"
    assert (summary.files_seen, summary.files_new, summary.files_rejected) == (5, 5, 0)
    docs = sql("SELECT path, status, encoding FROM documents ORDER BY path")
    assert [d[0] for d in docs] == sorted(p.name for p in SEEDS.iterdir())
    assert {d[1] for d in docs} == {"loaded"}
    doc_003 = hashlib.sha256((SEEDS / "003_426d0e80c1052dd2.txt").read_bytes()).hexdigest()

    # The 546-character paragraph printed twice on page 003: once unique, once exact copy of it.
    copies = sql(
        "SELECT paragraph_id, dup_status, dup_of, cluster_size FROM paragraphs "
        "WHERE doc_id = ? AND chars = 546 ORDER BY paragraph_id",
        [doc_003],
    )
    assert len(copies) == 2
    (first_id, first_status, first_of, first_cluster), (_, second_status, second_of, _) = copies
    assert (first_status, first_of, first_cluster) == ("unique", None, 2)
    assert (second_status, second_of) == ("exact", first_id)

    # Simplified text only: page 002 was Traditional with pinyin.
    texts = [t for (t,) in sql("SELECT text FROM paragraphs")]
    assert not any("報" in t or "(bào)" in t for t in texts)
    assert any("动起来" in t or "春节假期" in t for t in texts)
    script = sql("SELECT script FROM documents WHERE path LIKE '002%'")[0][0]
    assert script == "traditional"
    # jieba words for search
    assert sql("SELECT count(*) FROM tokens WHERE word = '马拉松'")[0][0] > 0


def test_second_run_changes_nothing_but_adds_a_runs_row(inbox, db_path, run_flow, sql):
    run_flow(inbox, db_path)
    before = table_checksums(db_path, TABLES)
    second = run_flow(inbox, db_path)
    assert (second.files_seen, second.files_new, second.articles) == (5, 0, 0)
    assert table_checksums(db_path, TABLES) == before
    assert sql("SELECT count(*), sum(files_new) FROM runs")[0] == (2, 5)


def test_new_and_changed_files_load_without_reloading_old_ones(inbox, db_path, run_flow, sql):
    run_flow(inbox, db_path)
    shutil.copy(SEEDS / "000_93f3cbaad0251ee5.txt", inbox / "005_new.txt")  # same bytes: not new
    page = inbox / "004_c39983c546060e4d.txt"
    page.write_text(page.read_text(encoding="utf-8") + "\n\n补充报道一段新的文字。\n", encoding="utf-8")
    third = Path(inbox / "006_fresh.txt")
    third.write_text("新闻标题\n\n本报讯(记者 张三)这是一篇新的报道,内容完整。\n", encoding="utf-8")

    summary = run_flow(inbox, db_path)

    assert summary.files_new == 2  # the changed 004 and the fresh 006
    versions = sql("SELECT count(*) FROM documents WHERE path = '004_c39983c546060e4d.txt'")[0][0]
    assert versions == 2  # the old version stays queryable
    assert sql("SELECT count(*) FROM documents")[0][0] == 7


def test_words_that_break_their_contract_reach_the_quarantine_table(
    inbox, db_path, run_flow, sql, monkeypatch
):
    # The workers stage good words themselves and hand back only the quarantined ones,
    # which the flow stages (when there are any). One text's words get an empty word.
    from flows import text_work

    cut = text_work.tokenize_step.cut_word_lists
    broken: list[str] = []

    def with_an_empty_word(rows, *args, **kwargs):
        lists = cut(rows, *args, **kwargs)
        first = lists.filter(~pl.col("paragraph_id").str.ends_with("-title")).row(0, named=True)
        broken.append(first["paragraph_id"])
        return lists.with_columns(
            pl.when(pl.col("paragraph_id") == first["paragraph_id"])
            .then(pl.col("words").list.concat(pl.lit([""])))
            .otherwise(pl.col("words"))
        )

    monkeypatch.setattr(text_work.tokenize_step, "cut_word_lists", with_an_empty_word)
    summary = run_flow(inbox, db_path)

    assert summary.status == "completed" and broken
    rows = sql(
        "SELECT row_key, check_name, run_id FROM quarantine WHERE table_name = 'tokens' ORDER BY row_key"
    )
    assert [(key, check) for key, check, _ in rows] == [(key, "no_empty_word") for key in sorted(broken)]
    assert {run_id for *_, run_id in rows} == {summary.run_id}
    assert summary.quarantined == len(broken)
    assert (
        sql("SELECT count(*) FROM tokens WHERE paragraph_id IN (SELECT row_key FROM quarantine)")[0][0] == 0
    )
