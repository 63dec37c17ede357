"""`newsetl serve`: a deployment of `ingest_news` on a schedule, served from this process.

Open-source Prefect has no file sensor, so the schedule is the sensor: every run lists
the inbox and loads only what the warehouse does not hold, and a run with nothing new
finishes in a second or two and says so (log line, artifact, run name).

Runs of the deployment never overlap: its concurrency limit is 1 and a run scheduled
while another is still going is cancelled (the next one picks up whatever is new), so
scheduled runs cannot queue up behind a long backfill.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.settings import get_current_settings

from flows import runners
from flows.ingest import ingest_news

DEPLOYMENT_NAME = "newsetl-scheduled"
DEFAULT_INTERVAL_SECONDS = 300


class ServeError(RuntimeError):
    """`serve` cannot start; the message tells the user what to do."""


def api_url() -> str:
    """The Prefect server this process talks to; serve refuses to run without one."""
    url = get_current_settings().api.url
    if not url:
        raise ServeError(
            "no Prefect server to serve to: start one with "
            "`prefect server start --host 127.0.0.1` and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api (an ephemeral server runs no schedules)"
        )
    return url


def deployment(
    inbox: str,
    db: str,
    cron: str | None = None,
    interval: float | None = None,
    runner: runners.RunnerChoice | None = None,
) -> RunnerDeployment:
    """The scheduled deployment: absolute paths, so runs work from any directory."""
    if cron and interval:
        raise ServeError("give --cron or --interval, not both")
    if not cron and not interval:
        interval = DEFAULT_INTERVAL_SECONDS
    choice = runner or runners.choose(inbox=inbox)
    schedule = f"cron {cron}" if cron else f"every {interval:g} s"
    flow = ingest_news.with_options(task_runner=runners.build(choice))
    return flow.to_deployment(
        name=DEPLOYMENT_NAME,
        cron=cron,
        interval=dt.timedelta(seconds=interval) if interval else None,
        parameters={"inbox": str(Path(inbox).resolve()), "db": str(Path(db).resolve())},
        concurrency_limit=ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
        ),
        description=(
            f"Loads new pages from {Path(inbox).resolve()} into {Path(db).resolve()} {schedule} "
            f"({choice.describe()}); a run with no new files finishes at once."
        ),
        tags=["newsetl"],
    )


def serve_forever(deployment_: RunnerDeployment) -> None:
    """Register the deployment and run its scheduled runs until interrupted (Ctrl-C / SIGTERM)."""
    api_url()
    serve(deployment_, print_starting_message=True)
