"""How a wave's texts are handed to the tokenize tasks: every text once, an article whole."""

from __future__ import annotations

import polars as pl

from flows import text_work
from flows.steps import discover
from flows.steps.dedup import mark_duplicates
from flows.tasks import chunk_files, cutting_tasks, texts_to_tokenize, to_batch
from tests.conftest import SEEDS


def seed_texts() -> pl.DataFrame:
    """The seed pages' unique paragraphs and headings, as a wave sends them to be cut."""
    files = discover.new_file_versions(discover.list_inbox(SEEDS, 1 << 26), {}, set())
    batch = to_batch([text_work.restore_chunk(chunk) for chunk in chunk_files(files, 1 << 20)])
    batch.paragraphs = mark_duplicates(batch.paragraphs, batch.documents).paragraphs
    return texts_to_tokenize(batch)


def text_bytes(frame: pl.DataFrame) -> int:
    return frame["text"].str.len_bytes().sum()


def test_a_waves_texts_go_to_tasks_of_several_parts_each_text_once_each_article_whole():
    texts = seed_texts()
    part_bytes, task_bytes = 2_000, 8_000
    tasks = cutting_tasks(texts, part_bytes, task_bytes)
    parts = [part for task in tasks for part in task]
    assert len(tasks) > 3 and max(map(len, tasks)) > 1  # several tasks, and parts per task

    # Every text exactly once, unchanged.
    assert pl.concat(parts).sort("paragraph_id").equals(texts.sort("paragraph_id"))
    # An article's texts in one part: its keywords are weighed over all its words.
    assert pl.concat([part["article_id"].unique() for part in parts]).is_unique().all()
    # A part is over its size only by (less than) one article; a task only by its last part.
    for part in parts:
        largest = part.group_by("article_id").agg(pl.col("text").str.len_bytes().sum())["text"].max()
        assert text_bytes(part) - largest < part_bytes
    for task in tasks:
        assert sum(map(text_bytes, task[:-1])) < task_bytes
    # In the order of the articles' first texts, part after part and task after task.
    firsts = texts.select("article_id").unique(maintain_order=True)["article_id"].to_list()
    assert [
        a for part in parts for a in part.select("article_id").unique(maintain_order=True)["article_id"]
    ] == firsts


def test_no_text_no_tokenize_task():
    assert cutting_tasks(seed_texts().clear(), 2_000, 8_000) == []
