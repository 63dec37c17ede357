"""The Prefect UI, in headless Chromium, shows the served run and its summary artifact.

Uses Debian's chromium (scripts/ensure-chromium.sh installs it when missing); never a
browser build of its own. Takes the screenshots the README shows; they replace the ones in
docs/ only with NEWSETL_DOCS_SCREENSHOTS=1 (a test run leaves the checkout as it was).
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from flows.artifacts import SUMMARY_KEY
from tests.conftest import ROOT
from tests.e2e.conftest import DROPPED, PrefectServer, ServedRun, stop_group

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
DOCS = ROOT / "docs"
FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # The UI is a single-page app: let its scripts fetch from the API and render first.
    "--virtual-time-budget=20000",
)


@pytest.fixture(scope="session")
def chromium() -> Path:
    subprocess.run(["bash", str(ROOT / "scripts" / "ensure-chromium.sh")], check=True, timeout=900)
    return CHROMIUM


def headless(chromium: Path, *args: str, timeout: float = 120) -> str:
    """Run headless Chromium with a fresh profile; its stdout (the DOM for --dump-dom)."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        proc = subprocess.Popen(
            [str(chromium), *FLAGS, f"--user-data-dir={profile}", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        try:
            out, _ = proc.communicate(timeout=timeout)
        finally:
            stop_group(proc, grace=5)
    assert proc.returncode == 0, f"chromium exited with {proc.returncode}"
    return out


def visible_text(dom: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom)))


def test_ui_shows_the_served_run_and_its_summary(
    chromium: Path, prefect_server: PrefectServer, served_run: ServedRun, tmp_path: Path
):
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    assert DROPPED in served_run.name
    run_page = f"{prefect_server.url}/runs/flow-run/{served_run.flow_run_id}"
    page = visible_text(headless(chromium, "--dump-dom", run_page))
    assert served_run.name in page  # the run's name, as the UI lists it: what it did
    assert "Completed" in page and "ingest_news" in page

    with prefect_server.client() as client:
        (summary,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[SUMMARY_KEY]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[served_run.flow_run_id]),
            )
        )
    artifact_page = f"{prefect_server.url}/artifacts/artifact/{summary.id}"
    shown = visible_text(headless(chromium, "--dump-dom", artifact_page))
    # The Markdown rendered as a page, linked to the run that made it.
    assert SUMMARY_KEY in shown and served_run.name in shown
    assert re.search(r"newsetl run \d{8}T\d{6}-\w+ : completed", shown)
    assert "Quarantined rows by check" in shown and "Time per stage" in shown

    shots = DOCS if os.environ.get("NEWSETL_DOCS_SCREENSHOTS") == "1" else tmp_path
    shots.mkdir(exist_ok=True)
    for url, name, height in (
        (run_page, "prefect-ui.png", 1000),
        (artifact_page, "prefect-ui-summary.png", 1750),
    ):
        target = shots / name
        target.unlink(missing_ok=True)
        headless(chromium, f"--window-size=1440,{height}", f"--screenshot={target}", url)
        assert target.stat().st_size > 20_000  # a rendered page, not a blank one
