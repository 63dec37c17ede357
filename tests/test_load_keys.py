"""The load keeps the keys of the growing tables unique without PRIMARY KEY constraints
(warehouse/ddl/001_tables.sql): a load that would store a key twice stores nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.conftest import data_checksums
from warehouse import db as warehouse


@pytest.fixture
def seeded_copy(seeded_db: Path, tmp_path: Path) -> Path:
    db = tmp_path / "news.duckdb"
    shutil.copy(seeded_db, db)
    return db


def stored(db: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).pl()


def test_the_growing_tables_have_no_key_index(seeded_db: Path):
    indexed = stored(
        seeded_db,
        "SELECT table_name FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE')",
    )["table_name"].to_list()
    assert set(indexed) == {"runs", "lexicon"}


def test_a_stored_paragraph_loaded_again_is_refused_and_nothing_lands(seeded_copy: Path):
    before = data_checksums(seeded_copy)
    again = stored(seeded_copy, "SELECT * FROM paragraphs ORDER BY paragraph_id LIMIT 3")
    new_article = stored(seeded_copy, "SELECT * FROM articles LIMIT 1").with_columns(
        pl.lit("new-article").alias("article_id")
    )
    with pytest.raises(warehouse.DuplicateKey) as exc:
        warehouse.load_batch(seeded_copy, {"articles": new_article, "paragraphs": again})
    assert str(exc.value) == (
        f"paragraphs key (paragraph_id) = ({again['paragraph_id'][0]}) is already in the warehouse; "
        "nothing was loaded"
    )
    assert data_checksums(seeded_copy) == before  # the new article too was rolled back


def test_a_key_twice_in_one_load_is_refused(seeded_copy: Path):
    before = data_checksums(seeded_copy)
    keywords = stored(seeded_copy, "SELECT * FROM article_keywords WHERE rank = 1 LIMIT 1").with_columns(
        pl.lit("new-article").alias("article_id")
    )
    with pytest.raises(
        warehouse.DuplicateKey, match=r"\(article_id, rank\) = \(new-article, 1\) is twice in this run"
    ):
        warehouse.load_batch(seeded_copy, {"article_keywords": pl.concat([keywords, keywords])})
    assert data_checksums(seeded_copy) == before
    warehouse.load_batch(seeded_copy, {"article_keywords": keywords})  # once is fine
    assert (
        stored(seeded_copy, "SELECT count(*) AS n FROM article_keywords WHERE article_id = 'new-article'")[
            "n"
        ].item()
        == 1
    )
