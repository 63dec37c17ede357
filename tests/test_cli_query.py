"""`newsetl query`: read-only, width-aware tables, CSV/Parquet export."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from wcwidth import wcswidth

from flows.cli import format_table, main
from tests.conftest import ROOT

PEOPLE_SQL = "SELECT person, articles FROM people WHERE person IN ('郭卫东', '张慧') ORDER BY person"


def test_format_table_aligns_han_characters_by_display_width():
    table = format_table(["名字", "n"], [("郭卫东", 8), ("Li", 10), (None, 1)]).splitlines()
    assert table[0] == "名字    n"
    assert table[1] == "------  --"
    # The second column starts at display cell 8 on every row, Han or not.
    for line, name in zip(table[2:5], ["郭卫东", "Li", "NULL"], strict=True):
        assert line.startswith(name)
        assert wcswidth(line[: len(name)]) + line[len(name) :].index(line.split()[-1]) == 8
    assert table[-1] == "(3 rows)"


def test_format_table_cuts_long_cells_to_the_display_width():
    text = "菏泽马拉松" * 20
    cell = format_table(["t"], [(text,)], max_width=11).splitlines()[2]
    assert cell == "菏泽马拉松…"
    assert wcswidth(cell) <= 11
    assert format_table(["a"], [("第一行\n第二行",)]).splitlines()[2] == "第一行⏎第二行"


def test_select_prints_a_table(seeded_db, capsys):
    assert main(["query", PEOPLE_SQL, "--db", str(seeded_db)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["person", "articles"]
    assert out[2].split() == ["张慧", "2"]
    assert out[3].split() == ["郭卫东", "8"]
    assert out[-1] == "(2 rows)"


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE notes (x INTEGER)",
        "DELETE FROM articles",
        "INSERT INTO lexicon VALUES ('测试', 'n', NULL)",
    ],
)
def test_write_statements_are_refused_and_change_nothing(seeded_db, seeded_sql, capsys, statement):
    before = seeded_sql("SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM lexicon)")
    assert main(["query", statement, "--db", str(seeded_db)]) == 2
    err = capsys.readouterr().err
    assert (
        err.strip() == "newsetl query: the warehouse is opened read-only here; write statements are refused"
    )
    assert seeded_sql("SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM lexicon)") == before


def test_errors_are_one_clear_line(seeded_db, tmp_path, capsys):
    assert main(["query", "SELECT * FROM no_such_table", "--db", str(seeded_db)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no_such_table" in err[0]
    assert main(["query", "SELECT 1", "--db", str(tmp_path / "none.duckdb")]) == 2
    assert "run `newsetl run` first" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_out_exports_the_result_by_extension(seeded_db, seeded_sql, tmp_path, capsys, suffix):
    out = tmp_path / f"people{suffix}"
    sql = "SELECT person, roles, articles FROM people ORDER BY articles DESC, person"
    assert main(["query", sql, "--db", str(seeded_db), "--out", str(out)]) == 0
    expected = seeded_sql(sql)
    assert capsys.readouterr().out.strip() == f"{len(expected)} rows written to {out}"
    reader = "read_csv" if suffix == ".csv" else "read_parquet"
    back = duckdb.sql(f"SELECT person, articles FROM {reader}('{out}')").fetchall()
    assert back == [(person, articles) for person, _, articles in expected]
    if suffix == ".parquet":  # Parquet keeps the list column's type
        assert pl.read_parquet(out)["roles"].dtype == pl.List(pl.String)


def test_out_refuses_other_extensions(seeded_db, tmp_path, capsys):
    assert main(["query", "SELECT 1", "--db", str(seeded_db), "--out", str(tmp_path / "x.json")]) == 2
    assert "--out must end in .csv or .parquet" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_a_saved_query_file_runs(seeded_db, capsys):
    saved = ROOT / "warehouse" / "queries" / "reporters_most_articles.sql"
    assert main(["query", str(saved), "--db", str(seeded_db)]) == 0
    assert capsys.readouterr().out.splitlines()[2].split()[:2] == ["郭卫东", "8"]
