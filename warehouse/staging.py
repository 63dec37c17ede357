"""A run's rows between its waves and its load: a DuckDB file (and Parquet files) beside the warehouse.

A run takes its new files in waves of a few MB (flows/ingest.py) so that its memory is one
wave, whatever the backlog. Each wave's validated rows are appended here; the load then
copies every table into the warehouse in one transaction (`warehouse.db.load_staged`), so
a run still lands whole or not at all, and the warehouse file is opened for writing only
during that copy (analysts keep reading it meanwhile).

Later waves see earlier ones through the same queries the warehouse answers (`dedup_index`
history lookups, the contract's foreign-key lookups): the staging tables have the
warehouse's names and column types, without its keys and indexes (which cost memory per
row and are checked by the contract and by the load's key checks, `db.check_new_keys`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import polars as pl

from flows.steps.dedup import HISTORY_UPDATE_SCHEMA
from flows.text_work import write_parquet
from warehouse import db, dedup_index

STAGING_DIR = ".staging"
# Tables of a run that the warehouse does not keep as such: applied at load (the history
# updates), or read by the run's own lookups only (its common anchors).
EXTRA_TABLES = {"dedup_updates": HISTORY_UPDATE_SCHEMA, dedup_index.COMMON_ANCHORS: {"anchor": pl.Int64}}
# A wave's append (and the checkpoint as its connection closes) holds DuckDB's working
# memory on top of the flow process, and the appends are among its highest points during
# the waves of the 1 GB load. With 256 MB one rose the process by up to 264 MB, with 64 MB by
# up to 75 MB, for 1.5 s more over the 100 MB load's 13 waves (3.9-4.5 s -> 5.4-6.3 s;
# 96 and 128 MB took as long as 64 MB; `bench.staging_append`, three runs each). 48 MB
# (5 Dec, with the lookups' 64 MB): the 1 GB load's appends took 60 s, against 61-62 s.
WRITE_MEMORY_LIMIT = "48MB"
# Tables staged as Parquet files: a tenth of the cost of inserting their rows into the
# staging database (most of a run's rows: the words), or less. Each is read back by the
# load as the warehouse table of its name. Later waves query none of them but the
# paragraphs' keys (`stored_keys`: the parents of `dup_of`), which read one column of the
# files. The paragraphs hold each text twice (`text`, `text_raw`): the 100 MB load's 13
# waves of them took 4.1 s to insert into the staging database, 0.6 s to write as Parquet
# (a replay of its staged rows).
FILE_TABLES = ("tokens", "article_keywords", "paragraphs")
# The tables a tokenize task stages itself (`flows.text_work.cut_words`).
WORD_TABLES = ("tokens", "article_keywords")


class Staging:
    """The staging file of one run; `with Staging(...)` removes it however the run ends."""

    def __init__(self, db_path: str | Path, run_id: str) -> None:
        self.dir = Path(db_path).parent / STAGING_DIR
        self.path = self.dir / f"{run_id}.duckdb"
        self.files = self.dir / f"{run_id}.files"
        self.waves = 0  # appends so far: names the Parquet files

    def __enter__(self) -> Staging:
        # Runs on one warehouse never overlap (warehouse/lock.py): any file left here is
        # from a run that was killed before its load committed, and is of no further use.
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        for table in FILE_TABLES:
            (self.files / table).mkdir(parents=True)
        with duckdb.connect(str(self.path)) as con:
            _create_tables(con)
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def append(self, tables: dict[str, pl.DataFrame]) -> None:
        """Add rows to the staged tables (columns by name; missing ones stay null)."""
        self.waves += 1
        # In the load's row groups: the load then reads each staged table on all cores
        # (one row group is one core's part of a scan).
        with db.open_file(self.path, row_group_size=db.LOAD_ROW_GROUP_SIZE) as con:
            con.execute(f"SET memory_limit = '{WRITE_MEMORY_LIMIT}'")
            # The order of staged rows means nothing (the load copies them as a set).
            con.execute("SET preserve_insertion_order = false")
            # Compressing a wave's text (FSST) took most of its append; the file lives for
            # one run and the load writes the rows compressed into the warehouse.
            con.execute("SET force_compression = 'uncompressed'")
            for name, frame in tables.items():
                if frame.height == 0:
                    continue
                if name in FILE_TABLES:
                    write_parquet(frame, self.part_files(f"{self.waves:06d}", (name,))[name])
                    continue
                con.register("wave_rows", frame.to_arrow())
                con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM wave_rows")
                if name == "dedup_anchors":
                    dedup_index.add_common_anchors(con, "wave_rows")
                con.unregister("wave_rows")

    def part_files(self, name: str, tables: tuple[str, ...]) -> dict[str, Path]:
        """The Parquet file of each of `tables` (staged as files), for one wave's `append` or
        one task that stages its own rows (`flows.text_work.cut_words`): the load reads them all."""
        return {table: self.files / table / f"{name}.parquet" for table in tables}

    def stored_keys(self, table: str, column: str, values: list[str]) -> set[str]:
        """The values among `values` that the run's earlier waves staged in table.column
        (foreign-key parents, as `warehouse.db.stored_keys` finds them in the warehouse)."""
        if table not in FILE_TABLES:
            return db.stored_keys(self.path, table, column, values)
        relations = file_relations(self.files)
        if not values or table not in relations:
            return set()
        with duckdb.connect() as con:
            return db.keys_in(con, relations[table], table, column, values)

    def file_tables(self) -> dict[str, str]:
        """The staged Parquet tables that hold rows, as DuckDB relations."""
        return file_relations(self.files)

    def statuses_as_loaded(self) -> dict[str, int]:
        """How many of the run's staged paragraphs the load stores with each `dup_status`."""
        paragraphs = self.file_tables().get("paragraphs")
        if paragraphs is None:
            return {}
        with duckdb.connect(str(self.path), read_only=True) as con:
            return dedup_index.statuses_as_loaded(con, paragraphs, "dedup_updates")

    def frame(self, sql: str) -> pl.DataFrame:
        """A query over the staged tables (small results: what the report shows)."""
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.sql(sql).pl()


def file_relations(files: Path) -> dict[str, str]:
    """The Parquet tables staged under `files` that hold rows, as DuckDB relations."""
    return {
        table: f"read_parquet('{files / table / '*.parquet'}')"
        for table in FILE_TABLES
        if any((files / table).glob("*.parquet"))
    }


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The warehouse's tables with their column types, without keys, indexes or NOT NULL.

    `CREATE TABLE AS` copies columns only: the DDL runs in an in-memory catalog and each
    table is copied from there, so the staging schema can never drift from the warehouse's.
    """
    staging = con.sql("SELECT current_database()").fetchall()[0][0].replace('"', '""')
    con.execute("ATTACH ':memory:' AS ddl")
    con.execute("USE ddl")
    for ddl in db.DDL_FILES:
        con.execute(ddl.read_text(encoding="utf-8"))
    con.execute(f'USE "{staging}"')
    for name in (t for t in db.LOAD_ORDER if t not in FILE_TABLES):
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM ddl.{name} LIMIT 0")
    con.execute("DETACH ddl")
    for name, schema in EXTRA_TABLES.items():
        con.register("empty", pl.DataFrame(schema=schema).to_arrow())
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM empty")
        con.unregister("empty")
