"""`newsetl serve` against a real `prefect server start`: a dropped file is loaded by a
scheduled run, and the run's artifacts on the server say so."""

from __future__ import annotations

import json

import duckdb
import pytest

from flows.artifacts import QUALITY_KEY, REJECTS_KEY, SUMMARY_KEY
from flows.serve import DEPLOYMENT_NAME
from tests.e2e.conftest import DROPPED, DROPPED_BAD, PrefectServer, ServedRun

pytestmark = pytest.mark.slow


def test_served_run_loads_the_dropped_file_and_publishes_its_report(
    prefect_server: PrefectServer, served_run: ServedRun
):
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy

    with prefect_server.client() as client:
        flow_run = client.read_flow_run(served_run.flow_run_id)
        deployment = client.read_deployment(flow_run.deployment_id)
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id]))
        )
    assert flow_run.state.is_completed()
    assert deployment.name == DEPLOYMENT_NAME
    # Scheduled runs never overlap: one slot, and a run due while another is going is cancelled.
    assert deployment.global_concurrency_limit.limit == 1
    assert deployment.concurrency_options.collision_strategy == ConcurrencyLimitStrategy.CANCEL_NEW
    assert flow_run.name.startswith(f"loaded {DROPPED} +1 file (1 article, ")
    assert flow_run.name.endswith("1 rejected) -> news.duckdb")

    by_key = {a.key: a for a in artifacts}
    summary = by_key[SUMMARY_KEY].data
    assert ": completed" in summary
    assert "| 7 | 2 | 1 |" in summary  # files seen 7 (5 seeds + 2 dropped), new 2, rejected 1
    (rejected,) = json.loads(by_key[REJECTS_KEY].data)
    assert (rejected["kind"], rejected["table"], rejected["key"]) == ("file", "documents", DROPPED_BAD)
    assert rejected["reason"].startswith("binary data")
    quality = json.loads(by_key[QUALITY_KEY].data)[0]
    assert (quality["status"], quality["files_rejected"], quality["rows_quarantined"]) == ("completed", 1, 0)

    # The warehouse holds what the artifacts claim: the dropped page's article and its byline.
    con = duckdb.connect(str(served_run.db), read_only=True)
    try:
        docs = con.execute("SELECT path, status FROM documents ORDER BY path").fetchall()
        reporters = con.execute(
            "SELECT a.reporters FROM articles a JOIN documents d USING (doc_id) WHERE d.path = ?", [DROPPED]
        ).fetchall()
        runs = con.execute("SELECT files_new, status FROM runs ORDER BY started_at").fetchall()
    finally:
        con.close()
    assert docs[-2:] == [(DROPPED, "loaded"), (DROPPED_BAD, "rejected")]
    assert ["王晓东"] in [r[0] for r in reporters]
    # The seeds, then the two dropped files; every other run found nothing new.
    assert [n for n, _ in runs if n] == [5, 2]
    assert {r[1] for r in runs} == {"completed"}
