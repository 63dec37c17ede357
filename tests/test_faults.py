"""Faults: a run killed during its load, two runs at once, the warehouse held by another program.

The slow tests drive real `newsetl run` processes (python -m flows.cli) against the
session's Prefect test server. To kill a run inside its load transaction, they set
NEWSETL_FAULT_PAUSE_IN_LOAD (warehouse/db.py): the run inserts every row, creates the
marker file and waits before COMMIT; the test sees the marker and sends SIGKILL. A kill
timed from outside would race a transaction that lasts a fraction of a second and could
not tell on which side of the COMMIT it landed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from flows.cli import main as newsetl
from tests.badfiles import GOOD_TEXT, page
from tests.conftest import ROOT, table_checksums
from warehouse import db as warehouse
from warehouse.lock import RunLocked, run_lock

TABLES = ("runs", "documents", "articles", "paragraphs", "tokens", "article_keywords", "quarantine")


def add_new_pages(inbox: Path) -> None:
    (inbox / "010_new.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (inbox / "011_new.txt").write_text(
        page("2022-03-05 09:00:00", ("河道清淤完成", "3月5日,城区河道清淤工程完成,河水变得清澈。")),
        encoding="utf-8",
    )


@pytest.fixture
def api_env(prefect_backend) -> dict[str, str]:
    """Environment for a `newsetl run` subprocess: the session's Prefect server, quiet logs."""
    from prefect.settings import get_current_settings

    env = dict(os.environ, PREFECT_API_URL=str(get_current_settings().api.url), PYTHONPATH=str(ROOT))
    env.pop("NEWSETL_FAULT_PAUSE_IN_LOAD", None)
    return env


def start_run(inbox: Path, db: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "run", "--inbox", str(inbox), "--db", str(db)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: a kill reaches nothing else
    )


def wait_for(marker: Path, proc: subprocess.Popen[str], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before its load: {proc.communicate()}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError("the run never reached its load")
        time.sleep(0.05)


# --- fast: the mechanisms, in this process ---------------------------------------------------


def test_a_second_holder_of_the_run_lock_waits_then_gets_a_clear_message(tmp_path):
    db = tmp_path / "w.duckdb"
    with run_lock(db, wait_seconds=0):
        started = time.monotonic()
        with pytest.raises(RunLocked) as exc, run_lock(db, wait_seconds=0.5):
            pass
        assert time.monotonic() - started >= 0.5  # it waited, bounded
    message = str(exc.value)
    assert f"pid {os.getpid()}" in message and "another newsetl run" in message
    with run_lock(db, wait_seconds=0):  # released: free again
        pass


def test_a_run_while_another_holds_the_lock_fails_with_the_reason_and_loads_nothing(
    inbox, db_path, run_flow, monkeypatch
):
    monkeypatch.setenv("NEWSETL_LOCK_WAIT_SECONDS", "0.3")
    with run_lock(db_path, wait_seconds=0), pytest.raises(RunLocked):
        run_flow(inbox, db_path)
    assert not db_path.exists()  # nothing was even opened
    assert run_flow(inbox, db_path).files_new == 5


@pytest.fixture
def duckdb_shell(tmp_path):
    """Another process holding the warehouse open read-write, as a user's DuckDB shell does."""
    db = tmp_path / "held.duckdb"
    warehouse.load_batch(db, {})  # the schema, no rows
    code = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('open', flush=True); sys.stdin.read()"
    )
    shell = subprocess.Popen(
        [sys.executable, "-c", code, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert shell.stdout.readline().strip() == "open"
    yield db, shell.pid
    shell.stdin.close()
    shell.wait(timeout=10)


def test_a_warehouse_held_by_another_process_gives_one_line_naming_it(duckdb_shell, capsys, monkeypatch):
    db, pid = duckdb_shell
    with (
        pytest.raises(warehouse.WarehouseBusy) as exc,
        warehouse.connect(db, read_only=True, wait_seconds=0.3),
    ):
        pass
    assert f"process {pid}" in str(exc.value)
    monkeypatch.setenv("NEWSETL_BUSY_WAIT_SECONDS", "0.3")
    # The load opens the file another way (attached, for its row groups): the same one line.
    with pytest.raises(warehouse.WarehouseBusy, match=f"process {pid}"):
        warehouse.load_batch(db, {})
    assert newsetl(["query", "SELECT count(*) FROM documents", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"process {pid}" in err and "Traceback" not in err


# --- slow: real `newsetl run` processes ------------------------------------------------------


@pytest.mark.slow
def test_a_run_killed_inside_its_load_leaves_the_warehouse_as_it_was_and_the_next_run_loads_all(
    inbox, db_path, run_flow, api_env, tmp_path
):
    run_flow(inbox, db_path)
    before = table_checksums(db_path, TABLES)
    add_new_pages(inbox)
    marker = tmp_path / "in-load"

    run = start_run(inbox, db_path, api_env | {"NEWSETL_FAULT_PAUSE_IN_LOAD": str(marker)})
    wait_for(marker, run)  # every row inserted, COMMIT not yet run
    os.killpg(run.pid, signal.SIGKILL)
    run.wait(timeout=30)
    assert run.returncode == -signal.SIGKILL

    assert table_checksums(db_path, TABLES) == before  # not one row of the killed run
    after_kill = run_flow(inbox, db_path)
    assert (after_kill.status, after_kill.files_new, after_kill.files_rejected) == ("completed", 2, 0)
    reference = tmp_path / "reference.duckdb"  # the same inbox loaded with no kill
    run_flow(inbox, reference)
    for table in ("documents", "articles", "paragraphs", "tokens"):
        count = f"SELECT count(*) FROM {table}"
        con = duckdb.connect(str(reference), read_only=True)
        expected = con.execute(count).fetchone()
        con.close()
        assert table_checksums(db_path, TABLES)[table][0] == expected[0], table


@pytest.mark.slow
def test_two_runs_at_once_the_second_exits_with_a_message_and_nothing_loads_twice(
    inbox, db_path, run_flow, api_env, tmp_path
):
    marker = tmp_path / "in-load"
    first = start_run(inbox, db_path, api_env | {"NEWSETL_FAULT_PAUSE_IN_LOAD": str(marker)})
    wait_for(marker, first)  # the first run holds the lock and the write connection

    second = start_run(inbox, db_path, api_env | {"NEWSETL_LOCK_WAIT_SECONDS": "1"})
    _, err = second.communicate(timeout=180)
    assert second.returncode == 1
    assert err.count("\n") == 1, err
    assert "another newsetl run is using the warehouse" in err and f"pid {first.pid}" in err

    query = subprocess.run(
        [sys.executable, "-m", "flows.cli", "query", "SELECT 1", "--db", str(db_path)],
        cwd=ROOT,
        env=api_env | {"NEWSETL_BUSY_WAIT_SECONDS": "0.5"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        query.returncode == 2 and f"process {first.pid}" in query.stderr and "Traceback" not in query.stderr
    )

    marker.unlink()  # let the first run commit
    _, err = first.communicate(timeout=180)
    assert first.returncode == 0, err
    again = run_flow(inbox, db_path)
    assert again.files_new == 0
    assert table_checksums(db_path, TABLES)["documents"][0] == 5


@pytest.mark.slow
def test_a_run_while_a_duckdb_shell_holds_the_warehouse_prints_one_line(duckdb_shell, inbox, api_env):
    db, pid = duckdb_shell
    run = start_run(inbox, db, api_env | {"NEWSETL_BUSY_WAIT_SECONDS": "0.5"})
    _, err = run.communicate(timeout=180)
    assert run.returncode == 1
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f"process {pid}" in err and "close it and try again" in err
