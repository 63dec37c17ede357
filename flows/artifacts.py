"""What a person reads about a run in the Prefect UI: artifacts, run logs and the run's name.

Artifact keys are stable, so the UI's Artifacts page shows each one's history across runs:

| key | kind | content |
| --- | --- | --- |
| `newsetl-run-summary` | markdown | files, rows, duplicates by kind, quarantine by check, quality, time per stage |
| `newsetl-rejects` | table | the first rejected files and quarantined rows, with their reasons |
| `newsetl-data-quality` | table | the run's data-quality figures (one row) |
| `newsetl-progress` | progress | share of the per-file work done, updated as each chunk finishes |

The text is built by `RunReport` (plain Python, no Prefect calls); `publish`, `report` and
`Progress` send it. Publishing never fails a run: the warehouse is the record, the UI a view of it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import polars as pl
from prefect import get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture, as_completed

from flows.steps.report import RunSummary

SUMMARY_KEY = "newsetl-run-summary"
REJECTS_KEY = "newsetl-rejects"
QUALITY_KEY = "newsetl-data-quality"
PROGRESS_KEY = "newsetl-progress"
# The UI shows a table artifact whole; beyond this many rows the warehouse's
# quarantine table is the place to look.
MAX_REJECT_ROWS = 50
REJECT_COLUMNS = ("kind", "table", "key", "check", "reason")
# The per-file stages are most of a run's work; the rest of the bar is dedup..load.
PER_FILE_SHARE = 80.0

log = logging.getLogger(__name__)

# Run time of the batch stages (dedup .. load) per flow run: filled by the completion hook
# of those run in the flow's process, and by `join_words` for tokenize (whose parts may
# run in worker processes); the per-file stages time themselves chunk by chunk (`Chunk.timed`).
_batch_stage_seconds: dict[UUID, dict[str, float]] = defaultdict(dict)


def add_stage_seconds(stage: str, seconds: float, flow_run_id: UUID | None = None) -> None:
    """Add to a batch stage's time in the report of a flow run (by default the current one)."""
    if flow_run_id is None:
        from prefect.runtime import flow_run

        if not flow_run.id:
            return
        flow_run_id = UUID(flow_run.id)
    stages = _batch_stage_seconds[flow_run_id]
    stages[stage] = round(stages.get(stage, 0.0) + seconds, 3)


def record_stage_seconds(task: Any, task_run: Any, state: Any) -> None:
    """`on_completion` hook of a batch stage run in the flow's process: add its run time."""
    add_stage_seconds(task.name, task_run.total_run_time.total_seconds(), task_run.flow_run_id)


@dataclass
class RunReport:
    """Everything the report shows about one run."""

    summary: RunSummary
    db: str
    new_paths: list[str]  # the new file versions the run read, inbox order
    rejected_files: pl.DataFrame  # path, reject_reason
    quarantine: pl.DataFrame | None  # table_name, row_key, check_name, reason, ...

    def quarantine_by_check(self) -> list[tuple[str, str, int]]:
        """(table, check, rows) for each check that quarantined rows, most rows first."""
        if self.quarantine is None or self.quarantine.height == 0:
            return []
        counts = (
            self.quarantine.group_by("table_name", "check_name")
            .len()
            .sort(["len", "table_name", "check_name"], descending=[True, False, False])
        )
        return [tuple(r) for r in counts.iter_rows()]

    def quality(self) -> dict[str, Any]:
        """The run's data-quality figures, by the names the UI table shows."""
        s = self.summary
        return {
            "run_id": s.run_id,
            "status": s.status,
            "files_rejected": s.files_rejected,
            "rows_quarantined": s.quarantined,
            "failed_share_pct": round(100 * s.failed_share, 2),
            "failed_share_limit_pct": round(100 * s.failed_share_limit, 2),
            "duplicate_paragraph_pct": round(100 * s.duplicates / s.paragraphs, 2) if s.paragraphs else 0.0,
            "lost_chars": s.lost_chars,
            "restored_chars": s.restored_chars,
            "pinyin_removed": s.pinyin_removed,
            "converted_chars": s.converted_chars,
            "boilerplate_lines": s.boilerplate_lines,
            "rejoined_breaks": s.joins,
        }

    def run_name(self) -> str:
        """The flow run's name in the UI: what this run did, at a glance (names the file)."""
        s, db = self.summary, Path(self.db).name
        if not self.new_paths:
            return f"no new files in {Path(s.inbox).name or s.inbox} -> {db}"
        more = len(self.new_paths) - 1
        what = self.new_paths[0] + (f" +{_count(more, 'file')}" if more else "")
        if s.status == "failed":
            return f"failed validation: {what} -> {db}"
        rejected = f", {s.files_rejected} rejected" if s.files_rejected else ""
        return f"loaded {what} ({_count(s.articles, 'article')}{rejected}) -> {db}"

    def markdown(self) -> str:
        s = self.summary
        lines = [
            f"# newsetl run `{s.run_id}`: {s.status}",
            "",
            f"Inbox `{s.inbox}` -> warehouse `{self.db}`, {s.seconds:.1f} s."
            + (f"\n\n**{s.message}**" if s.message else ""),
            "",
        ]
        if s.files_new == 0:
            lines += ["No new files: nothing to load.", ""]
        lines += [
            "## Files",
            "",
            "| seen | new | rejected |",
            "| ---: | ---: | ---: |",
            f"| {s.files_seen} | {s.files_new} | {s.files_rejected} |",
            "",
            "## Rows",
            "",
            "| articles | paragraphs | duplicates: exact | near | contained | quarantined |",
            "| ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| {s.articles} | {s.paragraphs} | {s.dup_exact} | {s.dup_near} | {s.dup_contained} | {s.quarantined} |",
            "",
            "## Quarantined rows by check",
            "",
        ]
        by_check = self.quarantine_by_check()
        if by_check:
            lines += ["| table | check | rows |", "| --- | --- | ---: |"]
            lines += [f"| {table} | {check} | {n} |" for table, check, n in by_check]
        else:
            lines.append("None.")
        lines += ["", "## Data quality", "", "| figure | value |", "| --- | ---: |"]
        lines += [f"| {k} | {v} |" for k, v in self.quality().items() if k not in ("run_id", "status")]
        lines += ["", "## Time per stage", "", "| stage | seconds |", "| --- | ---: |"]
        lines += [f"| {stage} | {sec:.3f} |" for stage, sec in s.stage_seconds.items()]
        return "\n".join(lines) + "\n"

    def rejects(self, limit: int = MAX_REJECT_ROWS) -> list[dict[str, str]]:
        """Rejected files, then quarantined rows, `limit` of each at most."""
        rows = [
            {"kind": "file", "table": "documents", "key": path, "check": "file_rejected", "reason": reason}
            for path, reason in self.rejected_files.head(limit).iter_rows()
        ]
        if self.quarantine is not None:
            for table, key, check, reason in (
                self.quarantine.head(limit)
                .select("table_name", "row_key", "check_name", "reason")
                .iter_rows()
            ):
                rows.append({"kind": "row", "table": table, "key": key, "check": check, "reason": reason})
        return rows


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def rejected_files(documents: pl.DataFrame) -> pl.DataFrame:
    """path and reason of the documents the run could not use."""
    return documents.filter(pl.col("status") == "rejected").select("path", "reject_reason")


def publish(report: RunReport, flow_run_id: UUID | None) -> None:
    """Send the summary, rejects and quality artifacts; name the flow run after its result."""
    try:
        create_markdown_artifact(report.markdown(), key=SUMMARY_KEY, description=report.run_name())
        rejects = report.rejects()
        # A table artifact needs at least its columns to render: an empty run shows headers only.
        create_table_artifact(
            rejects or {c: [] for c in REJECT_COLUMNS},
            key=REJECTS_KEY,
            description=f"first {MAX_REJECT_ROWS} rejected files and quarantined rows",
        )
        create_table_artifact([report.quality()], key=QUALITY_KEY, description="data-quality figures")
        if flow_run_id is not None:
            from prefect.client.orchestration import get_client

            with get_client(sync_client=True) as client:
                client.update_flow_run(flow_run_id, name=report.run_name())
    except Exception as exc:  # the UI is a view; the run's data is already loaded
        log.warning("could not publish the run's artifacts: %s", exc)


class Progress:
    """A progress artifact following the per-file stages chunk by chunk."""

    def __init__(self, total_chunks: int) -> None:
        self.total = total_chunks
        self.done = 0
        self.artifact_id: UUID | None = None
        if total_chunks:
            self.artifact_id = self._call(
                create_progress_artifact, 0.0, key=PROGRESS_KEY, description=self._text(0)
            )

    def _text(self, done: int) -> str:
        return f"{done} of {self.total} file chunks restored (decode, clean, repair, segment)"

    def _call(self, fn, *args, **kwargs) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # progress is a courtesy: never fail the run over it
            log.warning("could not update the progress artifact: %s", exc)
            return None

    def follow(self, futures: list[PrefectFuture]) -> list[Any]:
        """Results of `futures` in submission order, moving the bar as each one finishes."""
        for _future in as_completed(futures):
            self.done += 1
            if self.artifact_id is not None:
                self._call(
                    update_progress_artifact,
                    self.artifact_id,
                    PER_FILE_SHARE * self.done / self.total,
                    description=self._text(self.done),
                )
        return [f.result() for f in futures]

    def finish(self) -> None:
        if self.artifact_id is not None:
            self._call(update_progress_artifact, self.artifact_id, 100.0, description="run finished")


@task(task_run_name="report {summary.run_id}", cache_policy=NO_CACHE)
def report(
    summary: RunSummary, db: str, documents: pl.DataFrame, quarantine: pl.DataFrame | None, progress: Progress
) -> None:
    """Log the run's summary and publish it to the UI (artifacts and the flow run's name)."""
    from prefect.runtime import flow_run

    flow_run_id = UUID(flow_run.id) if flow_run.id else None
    summary.stage_seconds |= _batch_stage_seconds.pop(flow_run_id, {})
    run_report = RunReport(
        summary=summary,
        db=db,
        new_paths=documents["path"].to_list(),
        rejected_files=rejected_files(documents),
        quarantine=quarantine,
    )
    logger = get_run_logger()
    if not run_report.new_paths:
        logger.info("No new files in %s: nothing to load.", summary.inbox)
    logger.info("%s\n%s", run_report.run_name(), summary.text())
    publish(run_report, flow_run_id)
    progress.finish()
