"""Shared fixtures: the seed pages, a temporary warehouse, and one Prefect test server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def prefect_backend() -> Iterator[None]:
    """One temporary Prefect API for the whole session (its start-up is paid once)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """A fresh inbox holding copies of the five seed pages."""
    target = tmp_path / "inbox"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "news.duckdb"


@pytest.fixture
def run_flow(prefect_backend: None):
    """Run `ingest_news` in this process against the test server."""
    from flows.ingest import ingest_news

    def run(inbox: Path, db: Path):
        return ingest_news(inbox=str(inbox), db=str(db))

    return run


def read_only_query(db: Path):
    """statement, params -> list of tuples, on a read-only connection to `db`."""
    import duckdb

    def query(statement: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(db), read_only=True)
        try:
            return con.execute(statement, params or []).fetchall()
        finally:
            con.close()

    return query


def table_checksums(db: Path, tables: tuple[str, ...]) -> dict[str, tuple]:
    """Per table: row count and an order-independent checksum of every row."""
    query = read_only_query(db)
    return {t: query(f"SELECT count(*), coalesce(bit_xor(hash(t)), 0) FROM {t} t")[0] for t in tables}


# Columns that name the run or the moment of loading, not the data.
RUN_COLUMNS = {"run_id", "ingested_at", "quarantined_at"}


def data_checksums(db: Path) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent checksum of every data table, run columns left out."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
                " AND table_name <> 'runs' ORDER BY table_name"
            ).fetchall()
        ]
        out = {}
        for table in tables:
            columns = [c for (c,) in con.execute(f"SELECT name FROM pragma_table_info('{table}')").fetchall()]
            kept = ", ".join(f'"{c}"' for c in columns if c not in RUN_COLUMNS)
            out[table] = con.execute(
                f"SELECT count(*), coalesce(bit_xor(hash(row({kept}))), 0) FROM {table}"
            ).fetchone()
        return out
    finally:
        con.close()


@pytest.fixture
def sql(db_path: Path):
    """Query the test warehouse read-only: sql("SELECT ...") -> list of tuples."""
    return read_only_query(db_path)


@pytest.fixture(scope="session")
def seeded_db(prefect_backend: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One warehouse built from the seed pages, shared by the tests that only read it."""
    from flows.ingest import ingest_news

    root = tmp_path_factory.mktemp("seeded")
    shutil.copytree(SEEDS, root / "inbox")
    db = root / "news.duckdb"
    ingest_news(inbox=str(root / "inbox"), db=str(db))
    return db


@pytest.fixture(scope="session")
def seeded_sql(seeded_db: Path):
    """Query the shared seed warehouse read-only: seeded_sql("SELECT ...") -> list of tuples."""
    return read_only_query(seeded_db)
