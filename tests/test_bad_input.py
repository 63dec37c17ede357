"""Bad input beside the seeds: every seed loads, every bad file ends with its reason, every
bad row is in quarantine, and runs after that change nothing (tests/badfiles.py has the cases)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flows.steps.discover import (
    KnownFile,
    display_path,
    list_inbox,
    new_file_versions,
    read_source,
    synthetic_doc_id,
)
from tests.badfiles import GOOD_TEXT, RUN_ACTIONS, InboxWatcher, write_bad_files
from tests.conftest import ROOT, SEEDS, table_checksums

MAX_FILE_MB = 0.05  # seeds are at most 22 kB


@pytest.fixture
def bad_inbox(inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NEWSETL_MAX_FILE_MB", str(MAX_FILE_MB))
    return write_bad_files(inbox, tmp_path / "outside", int(MAX_FILE_MB * (1 << 20)))


DATA_TABLES = ("documents", "articles", "paragraphs", "tokens", "article_keywords", "quarantine")


def test_bad_files_get_reasons_bad_rows_are_quarantined_and_reruns_change_nothing(
    inbox, bad_inbox, db_path, run_flow, sql
):
    watcher = InboxWatcher(inbox, RUN_ACTIONS)
    watcher.start()
    try:
        first = run_flow(inbox, db_path)
    finally:
        watcher.stop()
    assert sorted(watcher.done) == sorted(RUN_ACTIONS)  # the file grew, the other vanished, mid-run
    assert first.status == "completed"

    docs = {
        p: (s, r, retry)
        for p, s, r, retry in sql("SELECT path, status, reject_reason, retryable FROM documents")
    }
    assert {s.name for s in SEEDS.iterdir()} <= {p for p, d in docs.items() if d[0] == "loaded"}
    for bad in bad_inbox:
        status, reason, retryable = docs[bad.path]
        if bad.outcome == "quarantined":
            assert status == "loaded", bad
            continue
        assert status == "rejected", bad
        assert bad.reason in reason, (bad, reason)
        assert retryable == (bad.outcome == "retryable"), bad
    assert len(docs) == len(list(SEEDS.iterdir())) + len(bad_inbox)  # nothing vanished, nothing extra

    # The rows the contract refuses are in quarantine, with their reasons, and nowhere else.
    future_doc = sql("SELECT doc_id FROM documents WHERE path = 'bad_published_in_future.txt'")[0][0]
    rows_doc = hashlib.sha256((inbox / "bad_rows.txt").read_bytes()).hexdigest()
    quarantine = sql("SELECT table_name, row_key, check_name, reason, row_json FROM quarantine")
    by_doc: dict[str, list[tuple]] = {}
    for table, key, check, reason, row_json in quarantine:
        row = json.loads(row_json)
        row = row[0] if isinstance(row, list) else row
        by_doc.setdefault(row.get("doc_id") or key[:16], []).append((table, check, reason))
    assert set(by_doc) <= {future_doc, rows_doc, future_doc[:16], rows_doc[:16]}
    future_rows = by_doc[future_doc] + by_doc.get(future_doc[:16], [])
    assert ("documents", "published_in_news_range") in {(t, c) for t, c, _ in future_rows}
    assert {t for t, _, _ in future_rows} >= {"documents", "articles", "paragraphs"}
    assert "rejected" in docs["bad_published_in_future.txt"][0]
    bad_articles = [(c, r) for t, c, r in by_doc[rows_doc] if t == "articles"]
    assert [c for c, _ in bad_articles] == ["event_date_in_news_range"] * 2
    assert all("not between 1939-01-01 and today" in r for _, r in bad_articles)
    # the third article of that page loaded; no article outside the news range did
    assert sql("SELECT count(*) FROM articles WHERE doc_id = ?", [rows_doc])[0][0] == 1
    assert sql(
        "SELECT count(*) FROM articles WHERE event_date > current_date OR event_date < DATE '1939-01-01'"
    ) == [(0,)]
    assert first.quarantined == len(quarantine)

    # Run 2: only the file that was still being written is read again, and now loads.
    quarantined_before = len(quarantine)
    second = run_flow(inbox, db_path)
    assert (second.files_new, second.files_rejected) == (1, 0)
    assert sql("SELECT status, retryable FROM documents WHERE path = 'bad_growing.txt'") == [
        ("loaded", False)
    ]
    assert sql("SELECT count(*) FROM quarantine")[0][0] == quarantined_before

    # Run 3: nothing left to do.
    before = table_checksums(db_path, DATA_TABLES)
    third = run_flow(inbox, db_path)
    assert (third.files_new, third.articles, third.quarantined) == (0, 0, 0)
    assert table_checksums(db_path, DATA_TABLES) == before


def test_stored_paths_are_valid_utf8_even_for_undecodable_names():
    shown, ok = display_path(b"bad_\xb1\xa8.txt")
    assert (shown, ok) == ("bad_\\xb1\\xa8.txt", False)
    assert shown.encode("utf-8")  # storable
    assert display_path("报纸.txt".encode()) == ("报纸.txt", True)


def test_a_run_fails_only_above_the_failed_share_limit_and_then_loads_nothing_but_its_record(
    inbox, tmp_path, db_path, prefect_backend, sql, monkeypatch
):
    from flows.ingest import ingest_news

    write_bad_files(tmp_path / "bad", tmp_path / "outside", 1 << 20)
    for name in ("bad_rows.txt", "bad_published_in_future.txt"):  # rows the contract refuses
        (inbox / name).write_bytes((tmp_path / "bad" / name).read_bytes())

    monkeypatch.setenv("NEWSETL_MAX_FAILED_SHARE", "0.01")
    state = ingest_news(inbox=str(inbox), db=str(db_path), return_state=True)
    assert state.is_failed()
    status, share, limit, quarantined, message = sql(
        "SELECT status, failed_share, failed_share_limit, quarantined, message FROM runs"
    )[0]
    assert (status, limit) == ("failed", 0.01)
    assert share > 0.01 and quarantined == sql("SELECT count(*) FROM quarantine")[0][0] > 0
    assert "failed validation" in message
    assert sql("SELECT count(*) FROM documents")[0][0] == 0  # nothing but the run's record

    monkeypatch.setenv("NEWSETL_MAX_FAILED_SHARE", "0.2")
    state = ingest_news(inbox=str(inbox), db=str(db_path), return_state=True)
    assert state.is_completed()
    completed = sql("SELECT status, failed_share, failed_share_limit FROM runs WHERE status = 'completed'")
    assert completed[0][1] == pytest.approx(share) and completed[0][2] == 0.2


# --- the per-file functions, one race at a time ----------------------------------------------


def discovered(inbox: Path, name: str, data: bytes):
    (inbox / name).write_bytes(data)
    (found,) = new_file_versions([f for f in list_inbox(inbox) if f.path == name], {}, set())
    return found


def test_a_file_deleted_after_discovery_is_rejected_as_disappeared(tmp_path):
    f = discovered(tmp_path, "gone.txt", GOOD_TEXT.encode())
    (tmp_path / "gone.txt").unlink()
    assert read_source(f) is None
    assert (f.reject_reason, f.retryable) == ("the file disappeared between discovery and reading", False)
    assert f.doc_id == synthetic_doc_id("gone.txt", f.size_bytes, f.mtime_ns)


def test_a_file_written_to_after_discovery_is_rejected_as_retryable(tmp_path):
    f = discovered(tmp_path, "growing.txt", GOOD_TEXT.encode())
    with (tmp_path / "growing.txt").open("ab") as fh:
        fh.write("补充的一段文字。".encode())
    assert read_source(f) is None
    assert f.retryable and "changed while it was being read" in f.reject_reason


def test_a_file_rewritten_with_the_same_size_and_mtime_is_caught_by_its_hash(tmp_path):
    f = discovered(tmp_path, "same.txt", b"aaaa")
    st = (tmp_path / "same.txt").stat()
    (tmp_path / "same.txt").write_bytes(b"bbbb")
    os.utime(tmp_path / "same.txt", ns=(st.st_atime_ns, st.st_mtime_ns))
    assert read_source(f) is None and f.retryable


def test_an_unchanged_rejected_file_is_not_read_again_but_a_retryable_one_is(tmp_path):
    big = discovered(tmp_path, "big.txt", b"x" * 100)
    listed = list_inbox(tmp_path, max_file_bytes=10)
    known = {
        f.path: KnownFile(f.path, f.size_bytes, f.mtime_ns, f.doc_id, retryable=f.path == "big.txt")
        for f in listed
    }
    assert [f.path for f in new_file_versions(list_inbox(tmp_path, 10), known, set())] == ["big.txt"]
    known["big.txt"] = KnownFile("big.txt", big.size_bytes, big.mtime_ns, big.doc_id, retryable=False)
    assert new_file_versions(list_inbox(tmp_path, 10), known, set()) == []


def test_every_file_found_names_the_inbox_with_one_shared_string_and_has_no_instance_dict(tmp_path):
    for name in ("a.txt", "sub/b.txt", "sub/deeper/c.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(GOOD_TEXT, encoding="utf-8")
    found = list_inbox(tmp_path)
    assert [f.path for f in found] == ["a.txt", "sub/b.txt", "sub/deeper/c.txt"]
    assert [Path(f.abs_path).read_text(encoding="utf-8") for f in found] == [GOOD_TEXT] * 3
    assert Path(found[2].abs_path) == tmp_path / "sub" / "deeper" / "c.txt"
    # A backlog's plan holds one per new file for the whole run: no per-file copy of the
    # inbox's path, no __dict__.
    assert all(f.inbox is found[0].inbox for f in found)
    assert not hasattr(found[0], "__dict__")


# Run as a separate process so that the kernel itself refuses the read: as root (CI here)
# the process is started without the capabilities that let root read any file.
_DISCOVER_AND_READ = """
import json, sys
from pathlib import Path
from flows.steps.discover import list_inbox, new_file_versions, read_source
found = new_file_versions(list_inbox(Path(sys.argv[1])), {}, set())
readable = [f for f in found if f.reject_reason is None]
for f in readable:
    Path(f.abs_path).chmod(0)  # taken away between discovery and reading
    read_source(f)
print(json.dumps({f.path: f.reject_reason for f in found}))
"""


def test_files_the_run_may_not_read_are_rejected_with_the_reason(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "locked.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (inbox / "locked.txt").chmod(0)
    (inbox / "locked-later.txt").write_text(GOOD_TEXT + "另一段。", encoding="utf-8")
    command = [sys.executable, "-c", _DISCOVER_AND_READ, str(inbox)]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv (util-linux): every file is readable")
        command = [setpriv, "--bounding-set=-dac_override,-dac_read_search", *command]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "locked.txt": "cannot read the file: Permission denied",
        "locked-later.txt": "cannot read the file: Permission denied",
    }
