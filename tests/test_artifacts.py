"""The run's artifacts and name, read back from the Prefect API the UI reads them from."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest

from flows.artifacts import PROGRESS_KEY, QUALITY_KEY, REJECTS_KEY, SUMMARY_KEY


def run_and_read(inbox: Path, db_path: Path) -> tuple[object, str, dict[str, object]]:
    """Run the flow; return its summary, the flow run's name and its artifacts by key."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from flows.ingest import ingest_news

    state = ingest_news(inbox=str(inbox), db=str(db_path), return_state=True)
    flow_run_id: UUID = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        name = client.read_flow_run(flow_run_id).name
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return state.result(), name, {a.key: a for a in artifacts}


@pytest.fixture
def inbox_with_a_bad_file(inbox: Path) -> Path:
    (inbox / "009_binary.txt").write_bytes(b"\x00\x01\x02 not text \x00")
    return inbox


def test_a_run_publishes_summary_rejects_quality_and_progress(
    prefect_backend, inbox_with_a_bad_file, db_path
):
    summary, name, artifacts = run_and_read(inbox_with_a_bad_file, db_path)

    assert (summary.files_new, summary.files_rejected) == (6, 1)
    assert {SUMMARY_KEY, REJECTS_KEY, QUALITY_KEY, PROGRESS_KEY} <= artifacts.keys()
    markdown = artifacts[SUMMARY_KEY].data
    assert "| 6 | 6 | 1 |" in markdown  # files seen, new, rejected
    assert summary.dup_exact >= 1  # page 003 prints one paragraph twice
    rows = f"| {summary.articles} | {summary.paragraphs} | {summary.dup_exact} | {summary.dup_near} |"
    assert f"{rows} {summary.dup_contained} | 0 |" in markdown  # nothing quarantined
    for stage in ("decode", "clean", "repair", "segment", "dedup", "tokenize", "validate", "load"):
        assert f"| {stage} | " in markdown
    rejects = artifacts[REJECTS_KEY].data
    assert '"009_binary.txt"' in rejects and "binary data" in rejects
    assert '"failed_share_pct": 0.0' in artifacts[QUALITY_KEY].data
    assert artifacts[PROGRESS_KEY].data == 100.0
    # The name says what the run did: the first new file, and how many more.
    assert name.startswith(
        f"loaded 000_93f3cbaad0251ee5.txt +5 files ({summary.articles} articles, 1 rejected)"
    )


def test_a_run_with_nothing_new_says_so(prefect_backend, inbox, db_path):
    run_and_read(inbox, db_path)
    summary, name, artifacts = run_and_read(inbox, db_path)

    assert summary.files_new == 0
    assert name == f"no new files in inbox -> {db_path.name}"
    assert "No new files: nothing to load." in artifacts[SUMMARY_KEY].data
    assert PROGRESS_KEY not in artifacts  # no per-file work, no progress bar
    assert artifacts[REJECTS_KEY].data == '{"kind": [], "table": [], "key": [], "check": [], "reason": []}'
