"""One run at a time per warehouse: an exclusive lock on a file next to the DuckDB file.

`fcntl.flock` on `<db>.lock`, held for the whole run (discover to load), so a second run
cannot discover the same files and load them twice. The kernel drops the lock when the
holder exits, even on SIGKILL, so a crashed run never leaves a stale lock behind; the
file itself stays (deleting it would let two runs lock two different files). It holds
the holder's pid and start time, for the message the waiting run prints.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

POLL_SECONDS = 0.2


class RunLocked(RuntimeError):
    """Another run holds the warehouse; the message says which and for how long we waited."""


def lock_path(db_path: str | Path) -> Path:
    return Path(f"{db_path}.lock")


@contextmanager
def run_lock(db_path: str | Path, wait_seconds: float) -> Iterator[None]:
    """Hold the warehouse's run lock, waiting up to `wait_seconds` for another run to finish."""
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another run"
                    raise RunLocked(
                        f"another newsetl run is using the warehouse {db_path} ({holder}); "
                        f"waited {wait_seconds:g} s (NEWSETL_LOCK_WAIT_SECONDS), try again when it has finished"
                    ) from None
                time.sleep(POLL_SECONDS)
        started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, started {started}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
