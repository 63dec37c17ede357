"""The Prefect API a `newsetl run` talks to: the configured server, or a local one started early.

With no `PREFECT_API_URL`, Prefect 3.9 starts a temporary server subprocess on the first
flow call: it first imports `prefect.server` in the calling process (~4 s here, only to
reach the class that spawns the subprocess), then spawns uvicorn and waits for it
(~5 s), all one after the other. Started here instead, before the CLI imports anything
heavy, the same server (uvicorn + `prefect.server.api.server:create_app`, ephemeral, no
UI, same `PREFECT_HOME` database) boots on one core while this process imports Prefect,
polars and the stages on the other; the CLI never imports `prefect.server`. Its output
goes to the run's log file, so the `task_run_recorder ... CancelledError` tracebacks it
prints when stopped never reach the terminal. Measured in docs/performance.md.

When a server is configured (`PREFECT_API_URL` in the environment or in the active
Prefect profile), nothing is started: runs are recorded there.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

# Settings of Prefect's own ephemeral server (prefect.server.api.server.SubprocessASGIServer).
_EPHEMERAL_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
DEFAULT_STARTUP_TIMEOUT = 90.0


def configured_api_url() -> str | None:
    """The Prefect server this process is configured to use, if any."""
    if "prefect.settings" in sys.modules:  # already imported (a test harness, a server): ask it
        from prefect.settings import get_current_settings

        return get_current_settings().api.url
    return api_url_from_environment(os.environ)


def api_url_from_environment(environ: Mapping[str, str]) -> str | None:
    """PREFECT_API_URL from the environment, else from the active Prefect profile (no Prefect import)."""
    url = environ.get("PREFECT_API_URL")
    if url:
        return url
    home = Path(environ.get("PREFECT_HOME") or "~/.prefect").expanduser()
    profiles = Path(environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        data = tomllib.loads(profiles.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = environ.get("PREFECT_PROFILE") or data.get("active")
    profile = data.get("profiles", {}).get(active, {})
    return profile.get("PREFECT_API_URL") or None


class LocalApiServer:
    """A temporary Prefect API server for one CLI run, on a port the OS picks.

    `start()` returns at once; `wait_ready()` blocks until the API answers. The listening
    socket is bound here and handed to uvicorn (`--fd`), so the URL is known before the
    child starts and no other process can take the port in between. The server writes to
    this process's stderr (the CLI's run log unless --verbose).
    """

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self.api_url = ""

    def start(self) -> str:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        port = self._sock.getsockname()[1]
        self.api_url = f"http://127.0.0.1:{port}/api"
        fd = self._sock.fileno()
        command = [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app"]
        command += ["--fd", str(fd), "--log-level", "error", "--lifespan", "on"]
        self.process = subprocess.Popen(
            command,
            # Offline, the server's telemetry logs an ERROR each start unless told not to send it.
            env={"PREFECT_SERVER_ANALYTICS_ENABLED": "false", **os.environ, **_EPHEMERAL_ENV},
            stdin=subprocess.DEVNULL,
            stdout=sys.stderr.fileno(),
            pass_fds=(fd,),
        )
        return self.api_url

    def wait_ready(self, timeout: float = DEFAULT_STARTUP_TIMEOUT) -> None:
        assert self.process is not None, "start() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the local Prefect server exited with code {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        raise RuntimeError(
            f"the local Prefect server did not answer within {timeout:.0f} s "
            "(raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS on a slow machine)"
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def startup_timeout() -> float:
    raw = os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS")
    return float(raw) if raw else DEFAULT_STARTUP_TIMEOUT


def flush_prefect_workers(timeout: float = 10.0) -> None:
    """Deliver the run's queued events and logs while the server still listens.

    Without this they are sent by Prefect's exit hooks, after the local server is gone,
    and the task runs never reach the server's database.
    """
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=timeout)


@contextmanager
def without_heartbeats() -> Iterator[None]:
    """A one-off run's flow call, without Prefect's flow-run heartbeats.

    Prefect 3.9 sends them from a thread that sleeps in 1 s steps and joins it when the
    flow returns, so every run ended 0-1 s later than its work (one new 100 KB file into
    an empty warehouse: 2.8 or 3.9 s of flow time, by where the thread's sleep stood;
    docs/performance-log.md). They serve the detection of crashed runs of deployments
    (Prefect's "zombie flows" automation), which `newsetl serve` keeps; a one-off run's
    process reports its own end. `PREFECT_FLOWS_HEARTBEAT_FREQUENCY` cannot say "none"
    (30 s at least), the settings object can.
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


@contextmanager
def api_for_run() -> Iterator[LocalApiServer | None]:
    """Point this process at the configured server, or start a local one for the block.

    Call `wait_ready()` on the yielded server before the first flow call; in between, the
    caller imports what it needs while the server boots.
    """
    if configured_api_url():
        yield None
        return
    server = LocalApiServer()
    url = server.start()
    try:
        if "prefect.settings" in sys.modules:  # settings already read: override them in context
            from prefect.settings import PREFECT_API_URL, temporary_settings

            with temporary_settings(updates={PREFECT_API_URL: url}):
                yield server
        else:  # read by Prefect when the caller imports it
            os.environ["PREFECT_API_URL"] = url
            yield server
    finally:
        try:
            if "prefect.events.worker" in sys.modules:
                flush_prefect_workers()
        finally:
            server.stop()
            if os.environ.get("PREFECT_API_URL") == url:
                del os.environ["PREFECT_API_URL"]
