"""`newsetl serve`: the deployment it registers, and its refusal to run without a server."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

from flows import runners
from flows.serve import DEPLOYMENT_NAME, ServeError, deployment
from tests.conftest import ROOT


def test_deployment_runs_the_inbox_on_the_schedule_one_run_at_a_time(inbox, db_path):
    served = deployment(str(inbox), str(db_path), interval=5, runner=runners.choose("thread", 2))

    assert served.name == DEPLOYMENT_NAME
    assert served.parameters == {"inbox": str(inbox.resolve()), "db": str(db_path.resolve())}
    (schedule,) = served.schedules
    assert schedule.schedule.interval == dt.timedelta(seconds=5)
    assert served.concurrency_limit == 1
    assert served.concurrency_options.collision_strategy.value == "CANCEL_NEW"
    assert "every 5 s" in served.description and "thread runner, 2 workers" in served.description

    (cron,) = deployment(str(inbox), str(db_path), cron="*/15 * * * *").schedules
    assert cron.schedule.cron == "*/15 * * * *"
    with pytest.raises(ServeError, match="not both"):
        deployment(str(inbox), str(db_path), cron="* * * * *", interval=5)


def test_serve_without_a_prefect_server_says_how_to_start_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "serve", "--interval", "5", "--db", str(tmp_path / "x.duckdb")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "prefect server start --host 127.0.0.1" in done.stderr
    assert "PREFECT_API_URL=http://127.0.0.1:4200/api" in done.stderr
