"""How the warehouse stores its largest columns (warehouse/ddl/001_tables.sql)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from warehouse import db as warehouse


def compressions(db: Path, table: str, column: str) -> set[str]:
    sql = (
        "SELECT DISTINCT compression FROM pragma_storage_info($table) "
        "WHERE column_name = $column AND segment_type = 'VARCHAR'"
    )
    with duckdb.connect(str(db), read_only=True) as con:
        return {r[0] for r in con.execute(sql, {"table": table, "column": column}).fetchall()}


def test_the_raw_text_is_stored_with_zstd_and_the_clean_text_with_duckdbs_choice(seeded_db: Path):
    # DuckDB ignores `USING COMPRESSION zstd` silently in a file of an older storage
    # version: this fails if the warehouse file were made in one.
    assert compressions(seeded_db, "paragraphs", "text_raw") == {"ZSTD"}
    assert "ZSTD" not in compressions(seeded_db, "paragraphs", "text")


def test_the_load_writes_small_row_groups_that_a_plain_connection_reads(tmp_path: Path):
    # The load attaches the file under the name a plain `duckdb.connect` gives it (here
    # with a space and a quote in it), in row groups of LOAD_ROW_GROUP_SIZE rows: a
    # 100 MB run's paragraphs then compress on both cores.
    db = tmp_path / "Mudan's news.duckdb"
    rows = 2 * warehouse.LOAD_ROW_GROUP_SIZE + 1000
    tokens = pl.DataFrame(
        {
            "paragraph_id": [f"p{i // 50}" for i in range(rows)],
            "article_id": [f"a{i // 400}" for i in range(rows)],
            "pos": [i % 50 for i in range(rows)],
            "word": ["牡丹", "区", "疫情", "防控"] * (rows // 4) + ["新闻"] * (rows % 4),
        }
    )
    warehouse.load_batch(db, {"tokens": tokens})
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT current_database()").fetchone() == ("Mudan's news",)
        assert con.execute("SELECT count(*), count(DISTINCT paragraph_id) FROM tokens").fetchone() == (
            rows,
            rows // 50 + 1,
        )
        groups = con.execute(
            "SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('tokens')"
        ).fetchone()
        assert groups == (3,)
