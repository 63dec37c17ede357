"""A real `prefect server start` and a real `newsetl serve`, shared by the end-to-end tests.

Everything started here runs in its own process group and is stopped by group (SIGTERM,
then SIGKILL), so flow-run subprocesses and the server's own children go too, even when
a test fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from uuid import UUID

import httpx
import pytest

from tests.conftest import ROOT, SEEDS

T = TypeVar("T")
SERVER_START_TIMEOUT = 180  # ~15 s here; CI machines are shared and slower
RUN_TIMEOUT = 240
DROPPED = "007_dropped.txt"  # the new page dropped into the served inbox
DROPPED_BAD = "008_binary.txt"  # and a file that is not text, to be rejected
DROPPED_TEXT = (
    "## 乡村振兴\n\n"
    "东明县举办秋季农民丰收节\n\n"
    "本报讯(记者 王晓东 通讯员 李红)9月23日,东明县在菜园集镇举办农民丰收节,"
    "全县三十多个合作社带来了西瓜、山药和黄河鲤鱼等特色农产品。\n\n"
    "活动现场,农民们展示了今年新建的智能温室和冷链仓库,丰收节持续三天。\n"
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check: Callable[[], T | None], timeout: float, every: float = 1.0) -> T:
    start = time.monotonic()
    while time.monotonic() < start + timeout:
        result = check()
        if result:
            print(f"{what}: {time.monotonic() - start:.1f} s")  # shown with -s, and on failure
            return result
        time.sleep(every)
    raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")


def stop_group(proc: subprocess.Popen, grace: float = 20.0) -> None:
    """Stop a process started with start_new_session=True and everything it started."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; children of the group may still be finishing.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        return


@dataclass
class PrefectServer:
    url: str  # the UI
    api_url: str
    env: dict[str, str]  # for subprocesses that talk to this server
    log: Path

    def client(self):
        """A sync Prefect client on this server (whatever this process's own settings say)."""
        from prefect.client.orchestration import SyncPrefectClient

        return SyncPrefectClient(self.api_url)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    url, api_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": api_url,
        "PREFECT_LOGGING_LEVEL": "INFO",
    }
    log = home / "server.log"
    # The UI's scripts call the API at this address (by default the standard port 4200).
    server_env = {k: v for k, v in env.items() if k != "PREFECT_API_URL"} | {"PREFECT_UI_API_URL": api_url}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=server_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def healthy() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"prefect server exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
                )
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
            return False

        wait_for("the Prefect server to answer /api/health", healthy, SERVER_START_TIMEOUT)
        yield PrefectServer(url=url, api_url=api_url, env=env, log=log)
    finally:
        stop_group(proc)


@dataclass
class ServedRun:
    """The flow run `newsetl serve` made for the files dropped into its inbox."""

    flow_run_id: UUID
    name: str
    inbox: Path
    db: Path
    serve_log: str


def completed_runs(server: PrefectServer) -> list:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    with server.client() as client:
        return client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.COMPLETED]))
            ),
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,
        )


@pytest.fixture(scope="session")
def served_run(
    prefect_server: PrefectServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedRun]:
    """`newsetl serve --interval 5` on a copy of the seeds; a page dropped in; its run."""
    work = tmp_path_factory.mktemp("served")
    inbox, db = work / "inbox", work / "news.duckdb"
    shutil.copytree(SEEDS, inbox)
    log = work / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flows.cli",
                "serve",
                "--interval",
                "5",
                "--inbox",
                str(inbox),
                "--db",
                str(db),
            ],
            cwd=ROOT,
            env=prefect_server.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def run_named(prefix: str):
            if proc.poll() is not None:
                raise RuntimeError(f"newsetl serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            return next((r for r in completed_runs(prefect_server) if r.name.startswith(prefix)), None)

        # The first run loads the seeds; only then is a dropped file the one new thing.
        wait_for("the served run that loads the seeds", lambda: run_named("loaded 000_"), RUN_TIMEOUT)
        (inbox / DROPPED).write_text(DROPPED_TEXT, encoding="utf-8")
        (inbox / DROPPED_BAD).write_bytes(b"\x00\x01 not a page \x00")
        run = wait_for(
            f"a served run that loads {DROPPED}", lambda: run_named(f"loaded {DROPPED}"), RUN_TIMEOUT
        )
        # Let a run with nothing new follow, as users see between drops.
        wait_for("a served run with no new files", lambda: run_named("no new files"), RUN_TIMEOUT)
    except BaseException:
        stop_group(proc)
        print(log.read_text()[-5000:], file=sys.stderr)
        raise
    # Stopped before the tests read the warehouse: serve holds no file then.
    stop_group(proc)
    yield ServedRun(flow_run_id=run.id, name=run.name, inbox=inbox, db=db, serve_log=log.read_text())
