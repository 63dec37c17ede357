"""Which Prefect API `newsetl run` uses, and the local server it starts when none is configured."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest

from flows.prefect_api import LocalApiServer, api_url_from_environment, without_heartbeats

PROFILES = """
active = "work"

[profiles.ephemeral]
PREFECT_SERVER_ALLOW_EPHEMERAL_MODE = "true"

[profiles.work]
PREFECT_API_URL = "http://10.0.0.5:4200/api"
"""


def test_environment_variable_wins(tmp_path: Path) -> None:
    (tmp_path / "profiles.toml").write_text(PROFILES)
    env = {"PREFECT_HOME": str(tmp_path), "PREFECT_API_URL": "http://127.0.0.1:4200/api"}
    assert api_url_from_environment(env) == "http://127.0.0.1:4200/api"


def test_active_profile_names_the_server(tmp_path: Path) -> None:
    (tmp_path / "profiles.toml").write_text(PROFILES)
    assert api_url_from_environment({"PREFECT_HOME": str(tmp_path)}) == "http://10.0.0.5:4200/api"


def test_profile_chosen_by_prefect_profile_without_url_means_none(tmp_path: Path) -> None:
    (tmp_path / "profiles.toml").write_text(PROFILES)
    env = {"PREFECT_HOME": str(tmp_path), "PREFECT_PROFILE": "ephemeral"}
    assert api_url_from_environment(env) is None


def test_no_profiles_file_means_none(tmp_path: Path) -> None:
    assert api_url_from_environment({"PREFECT_HOME": str(tmp_path / "missing")}) is None


@pytest.mark.slow
def test_local_server_answers_and_stops() -> None:
    server = LocalApiServer()
    url = server.start()
    try:
        server.wait_ready(timeout=120)
        with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
            assert response.status == 200
        process = server.process
    finally:
        server.stop()
    assert process is not None and process.poll() is not None
    assert server.process is None


def test_a_one_off_run_sends_no_heartbeats_and_a_flow_outside_does(prefect_backend, monkeypatch) -> None:
    # Prefect's engine sends a flow run's first heartbeat as the flow starts, then joins
    # the sending thread (asleep in 1 s steps) as it returns: what a one-off run avoids.
    from prefect import flow
    from prefect.flow_engine import FlowRunEngine

    sent: list[str] = []
    monkeypatch.setattr(
        FlowRunEngine, "_emit_flow_run_heartbeat", lambda engine, *_: sent.append(engine.flow.name)
    )

    # Each flow lasts long enough for a heartbeat thread, if any, to send its first one.
    @flow(name="one-off")
    def one_off() -> int:
        time.sleep(0.2)
        return 1

    @flow(name="with-heartbeats")
    def with_heartbeats() -> int:
        time.sleep(0.2)
        return 2

    with without_heartbeats():
        assert one_off() == 1
    assert with_heartbeats() == 2
    assert sent == ["with-heartbeats"]
