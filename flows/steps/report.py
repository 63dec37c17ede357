"""Report: the run's summary as numbers a person reads (CLI output, runs row, artifacts)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class RunSummary:
    run_id: str
    inbox: str = ""
    status: str = "completed"
    files_seen: int = 0
    files_new: int = 0
    files_rejected: int = 0
    articles: int = 0
    paragraphs: int = 0
    dup_exact: int = 0
    dup_near: int = 0
    dup_contained: int = 0
    quarantined: int = 0
    failed_share: float = 0.0
    failed_share_limit: float = 0.0
    joins: int = 0
    boilerplate_lines: int = 0
    converted_chars: int = 0
    lost_chars: int = 0
    restored_chars: int = 0
    pinyin_removed: int = 0
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    message: str | None = None

    @property
    def duplicates(self) -> int:
        return self.dup_exact + self.dup_near + self.dup_contained

    def as_row(self) -> dict:
        row = asdict(self)
        row["duplicates"] = self.duplicates
        return row

    def text(self) -> str:
        """The few lines `newsetl run` prints."""
        lines = [
            f"run {self.run_id}: {self.status}" + (f" ({self.message})" if self.message else ""),
            f"  files      seen {self.files_seen}  new {self.files_new}  rejected {self.files_rejected}",
            f"  articles   {self.articles}",
            f"  paragraphs {self.paragraphs}  duplicates {self.duplicates}"
            f" (exact {self.dup_exact}, near {self.dup_near}, contained {self.dup_contained})",
            f"  quarantined rows {self.quarantined}",
            f"  seconds    {self.seconds:.1f}",
        ]
        return "\n".join(lines)
