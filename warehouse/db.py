"""DuckDB access: schema, what the warehouse already knows, and the one-transaction load.

A run opens the write connection only in `load_staged` (its waves wait in the staging
file, warehouse/staging.py), so the warehouse stays readable by analysts for the whole
time a run spends on the text. `load_batch` loads frames directly (tests, tools).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from flows.config import Settings
from flows.steps.discover import KnownFile
from warehouse import dedup_index

SQL_DIR = Path(__file__).parent
DDL_FILES = sorted((SQL_DIR / "ddl").glob("*.sql"))
VIEW_FILES = sorted((SQL_DIR / "views").glob("*.sql"))
# Tables in load order (referenced tables first).
LOAD_ORDER = (
    "runs",
    "documents",
    "articles",
    "paragraphs",
    "dedup_keys",
    "dedup_bands",
    "dedup_anchors",
    "tokens",
    "article_keywords",
    "lexicon",
    "quarantine",
)
# Reference tables the repository defines: each run's copy replaces the stored one.
REPLACED_EACH_RUN = ("lexicon",)
# Keys of the tables that grow with the archive, checked by the load rather than by
# PRIMARY KEY constraints (whose in-memory indexes hold every stored key; ddl/001_tables.sql).
UNIQUE_KEYS = {
    "documents": ("doc_id",),
    "articles": ("article_id",),
    "paragraphs": ("paragraph_id",),
    "article_keywords": ("article_id", "rank"),
}


# The load's working memory: DuckDB spills beyond it (to a .tmp folder beside the
# warehouse) instead of growing the process with the size of the run. 256 MB: the 1 GB
# run's load adds 536 MB to its process with it, 805 MB with 512 MB, for 70 s instead
# of 49 s (`bench.load_replay`); with the key indexes the tables had before (UNIQUE_KEYS)
# it failed within 256 MB ("could not allocate block").
LOAD_MEMORY_LIMIT = "256MB"
# The load writes row groups of this many rows (DuckDB's default is 122,880), and in no
# particular order: DuckDB then compresses them on all cores. A 100 MB run loads 164,494
# paragraphs, less than two default row groups: their insert (dictionary + FSST on
# Chinese text, the load's largest part) ran on one core, 2.85 s; in row groups of 30,720
# on two, 1.57 s (a diagnostic on that run's staged rows). Queries over them were not
# slower, but for scans of the 12.9 M words (30 -> 37-40 ms; docs/performance-log.md).
LOAD_ROW_GROUP_SIZE = 30_720


class WarehouseBusy(RuntimeError):
    """Another process holds the DuckDB file; the message says which and what to do."""


class DuplicateKey(ValueError):
    """A load would store a key twice; the transaction is rolled back."""


_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


def open_file(
    db_path: Path, read_only: bool = False, row_group_size: int | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection to the DuckDB file `db_path`, writing row groups of `row_group_size` rows."""
    if row_group_size is None:
        return duckdb.connect(str(db_path), read_only=read_only, config=_CONFIG)
    # A row group size holds only for the database instance it is attached with (DuckDB
    # does not store it in the file): the file is attached under the name a plain
    # `duckdb.connect` gives it, so that views and queries read as everywhere else.
    con = duckdb.connect(":memory:", config=_CONFIG)
    try:
        alias = db_path.stem.replace('"', '""')
        mode = ", READ_ONLY" if read_only else ""
        con.execute(
            f"ATTACH '{_sql_text(db_path)}' AS \"{alias}\" (ROW_GROUP_SIZE {int(row_group_size)}{mode})"
        )
        con.execute(f'USE "{alias}"')
    except BaseException:
        con.close()
        raise
    return con


def _sql_text(value: object) -> str:
    return str(value).replace("'", "''")


def _open(
    db_path: Path, read_only: bool, wait_seconds: float, row_group_size: int | None = None
) -> duckdb.DuckDBPyConnection:
    """`open_file`, retried while another process holds the file, up to `wait_seconds`."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return open_file(db_path, read_only, row_group_size)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() < deadline:
                time.sleep(0.25)
                continue
            held = re.search(r"held in (\S+) \(PID (\d+)\)", str(exc))
            holder = f"process {held[2]} ({Path(held[1]).name})" if held else "another process"
            raise WarehouseBusy(
                f"the warehouse {db_path} is open in {holder}, a DuckDB shell or another program; "
                f"waited {wait_seconds:g} s (NEWSETL_BUSY_WAIT_SECONDS): close it and try again"
            ) from None


@contextmanager
def connect(
    db_path: str | Path,
    read_only: bool = False,
    wait_seconds: float | None = None,
    row_group_size: int | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse; a lock held by another process becomes a `WarehouseBusy`.

    DuckDB lets one process write a file, and no other process even read it meanwhile:
    wait up to `wait_seconds` (default NEWSETL_BUSY_WAIT_SECONDS) for the holder to let go.
    With `row_group_size`, the rows this connection writes go in row groups of that many.
    """
    db_path = Path(db_path)
    if read_only and not db_path.exists():
        raise FileNotFoundError(f"no warehouse at {db_path}: run `newsetl run` first")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    if wait_seconds is None:
        wait_seconds = Settings.from_env().busy_wait_seconds
    con = _open(db_path, read_only, wait_seconds, row_group_size)
    try:
        yield con
    finally:
        con.close()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in DDL_FILES:
        con.execute(ddl.read_text(encoding="utf-8"))
    for view in VIEW_FILES:
        con.execute(view.read_text(encoding="utf-8"))


def known_files(db_path: str | Path) -> tuple[dict[str, KnownFile], set[str]]:
    """The latest version the warehouse holds of each path, and every doc_id it holds."""
    if not Path(db_path).exists():
        return {}, set()
    with connect(db_path, read_only=True) as con:
        if not has_table(con, "documents"):
            return {}, set()
        rows = con.execute(
            """
            SELECT path, size_bytes, mtime_ns, doc_id, retryable
            FROM documents
            QUALIFY row_number() OVER (PARTITION BY path ORDER BY ingested_at DESC) = 1
            """
        ).fetchall()
        ids = {r[0] for r in con.execute("SELECT doc_id FROM documents").fetchall()}
    by_path = {r[0]: KnownFile(r[0], r[1], r[2], r[3], r[4]) for r in rows}
    return by_path, ids


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    # fetchall: an unfinished fetchone() result blocks the next statement in DuckDB 2.0.
    sql = "SELECT count(*) FROM information_schema.tables WHERE table_name = ?"
    return con.execute(sql, [name]).fetchall()[0][0] > 0


# Foreign-key parents the contract may look up: (table, column) pairs, never user input.
# They are the single-column keys of the growing tables.
_KEY_COLUMNS = {(table, key[0]) for table, key in UNIQUE_KEYS.items() if len(key) == 1}


def _check_key_column(table: str, column: str) -> None:
    if (table, column) not in _KEY_COLUMNS:
        raise ValueError(f"{table}.{column} is not a key the contract looks up")


def stored_keys(db_path: str | Path, table: str, column: str, values: list[str]) -> set[str]:
    """The values among `values` that the warehouse holds in table.column (foreign-key parents)."""
    _check_key_column(table, column)
    if not values or not Path(db_path).exists():
        return set()
    with connect(db_path, read_only=True) as con:
        if not has_table(con, table):
            return set()
        return keys_in(con, table, table, column, values)


def keys_in(
    con: duckdb.DuckDBPyConnection, relation: str, table: str, column: str, values: list[str]
) -> set[str]:
    """The values among `values` that `relation` (rows of `table`) holds in `column`."""
    _check_key_column(table, column)
    wanted = pl.DataFrame({"key": values}).to_arrow()  # noqa: F841 (used by SQL)
    sql = f"SELECT DISTINCT t.{column} FROM {relation} t JOIN wanted w ON t.{column} = w.key"
    if table == "documents":
        sql += " WHERE t.status = 'loaded'"
    return {r[0] for r in con.execute(sql).fetchall()}


def load_batch(db_path: str | Path, tables: dict[str, pl.DataFrame]) -> None:
    """Insert frames into the warehouse in one transaction: all of it lands, or none of it."""
    with _loading(db_path) as con:
        sources = {}
        for name, frame in tables.items():
            if frame.height:
                con.register(f"new_{name}", frame.to_arrow())
                sources[name] = f"new_{name}"
        _load(con, sources)


def load_staged(
    db_path: str | Path, staged: Path, staged_files: dict[str, str], tables: tuple[str, ...] | None = None
) -> None:
    """Copy a run's staged tables (warehouse/staging.py: the staging database, and the
    relations over its Parquet files), or only `tables` of them, into the warehouse in one
    transaction. DuckDB streams the copy: memory stays flat in its size."""
    with _loading(db_path) as con:
        con.execute(f"ATTACH '{staged}' AS staged (READ_ONLY)")
        try:
            sql = "SELECT table_name FROM duckdb_tables() WHERE database_name = 'staged'"
            names = [r[0] for r in con.execute(sql).fetchall()]
            sources = {n: f"staged.{n}" for n in names if con.sql(f"FROM staged.{n} LIMIT 1").fetchall()}
            sources |= staged_files
            _load(con, {n: rel for n, rel in sources.items() if tables is None or n in tables})
        finally:
            con.execute("DETACH staged")


@contextmanager
def _loading(db_path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse opened for a load: its memory limit, its row groups."""
    with connect(db_path, row_group_size=LOAD_ROW_GROUP_SIZE) as con:
        con.execute(f"SET memory_limit = '{LOAD_MEMORY_LIMIT}'")
        # The order of a run's rows means nothing (the load copies them as a set, and
        # queries order by their columns): unordered, the inserts run on all cores.
        con.execute("SET preserve_insertion_order = false")
        yield con


def _load(con: duckdb.DuckDBPyConnection, sources: dict[str, str]) -> None:
    """Insert each table from the relation `sources` names for it, in one transaction."""
    ensure_schema(con)
    con.execute("BEGIN TRANSACTION")
    try:
        if "documents" in sources:
            # A file rejected earlier as retryable (still being written) and read again
            # now replaces its old row, whatever bytes were read then.
            con.execute(
                f"""
                DELETE FROM documents d USING {sources["documents"]} n
                WHERE d.doc_id = n.doc_id OR (d.retryable AND d.path = n.path)
                """
            )
        # Stored fragments demoted by a complete paragraph of this run, cluster sizes.
        updates = sources.get("dedup_updates")
        if updates:
            dedup_index.drop_demoted(con, updates, sources.get("dedup_keys"))
        for name in LOAD_ORDER:
            if name not in sources:
                continue
            if name in REPLACED_EACH_RUN:
                con.execute(f"DELETE FROM {name}")
            columns = ", ".join(f'"{c}"' for c in con.sql(f"SELECT * FROM {sources[name]} LIMIT 0").columns)
            where = dedup_index.without_demoted(name) if updates else ""
            if name in UNIQUE_KEYS:
                check_new_keys(con, name, sources[name])
            con.execute(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {sources[name]}{where}")
        if updates:
            dedup_index.apply_history_updates(con, updates)
        _pause_for_fault_test()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def check_new_keys(con: duckdb.DuckDBPyConnection, table: str, source: str) -> None:
    """Raise `DuplicateKey` when the rows of `source` repeat a key of `table`, among
    themselves or against the stored rows. Two joins on the key columns, which DuckDB
    spills to disk: memory does not grow with the history, as a key index's would."""
    key = ", ".join(UNIQUE_KEYS[table])
    repeated = con.execute(f"SELECT {key} FROM {source} GROUP BY ALL HAVING count(*) > 1 LIMIT 1").fetchall()
    stored = con.execute(f"SELECT {key} FROM {table} SEMI JOIN {source} USING ({key}) LIMIT 1").fetchall()
    if repeated or stored:
        value = ", ".join(map(str, (repeated or stored)[0]))
        where = "twice in this run" if repeated else "already in the warehouse"
        raise DuplicateKey(f"{table} key ({key}) = ({value}) is {where}; nothing was loaded")


def _pause_for_fault_test() -> None:
    """Test hook (tests/test_faults.py): with NEWSETL_FAULT_PAUSE_IN_LOAD=<file>, create the
    file and wait, inside the open transaction, until it is removed (at most 2 minutes).

    A real `newsetl run` process can then be killed at exactly this point, with every row
    inserted and nothing committed; timing a kill from outside would race a transaction
    that lasts a fraction of a second. Unset (always, outside that test), it does nothing.
    """
    marker = os.environ.get("NEWSETL_FAULT_PAUSE_IN_LOAD")
    if not marker:
        return
    Path(marker).touch()
    deadline = time.monotonic() + 120
    while Path(marker).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
