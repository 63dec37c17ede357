"""How the warehouse stores its largest columns (warehouse/ddl/001_tables.sql)."""

from __future__ import annotations

from pathlib import Path

import duckdb


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
