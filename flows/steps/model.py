"""The in-memory shapes that move between the per-file stages.

A page goes decode -> clean -> repair -> segment as plain dataclasses (cheap to
pickle to a worker process); `flows.steps.tables` turns a batch of them into Arrow
tables for dedup, tokenize, validate and load.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, fields


@dataclass(slots=True)
class SourceFile:
    """One file version found in the inbox (discover stage).

    A run's plan holds one per new file for the whole run (88,000 for a 1 GB backlog), so
    it is kept small: slots, not a __dict__, and the inbox's path one string shared by all
    its files, not a full path each (44 -> 30 MB for those 88,000).
    """

    path: str  # relative to the inbox, as the user sees it
    inbox: str  # the inbox's absolute path
    size_bytes: int
    mtime_ns: int
    doc_id: str = ""  # sha256 of the bytes; empty when the file could not be read
    reject_reason: str | None = None  # set by discover/decode when the file cannot be used
    retryable: bool = False  # a rejected file that may succeed next run (still being written)

    @property
    def abs_path(self) -> str:
        return os.path.join(self.inbox, self.path)


@dataclass
class Block:
    """One kept line of the page, after cleaning (repair decides which lines form a paragraph)."""

    text: str  # cleaned text (Simplified, no pinyin, no markup)
    raw: str  # the line exactly as read
    flags: list[str] = field(default_factory=list)  # quality flags, e.g. "lost_char"
    heading: bool = False  # marked as a heading in the source (Markdown "#")
    # The raw lines between the previous kept line and this one (blank lines, dropped
    # boilerplate), so a rejoined paragraph's text_raw is exactly what the page had.
    gap: list[str] = field(default_factory=list)


@dataclass
class PageMeta:
    """What the page says about itself (kept from boilerplate before it is dropped)."""

    source: str | None = None
    published_at: dt.datetime | None = None
    editor: str | None = None


@dataclass
class CleanStats:
    boilerplate_lines: int = 0
    converted_chars: int = 0  # characters changed by Traditional -> Simplified
    lost_chars: int = 0  # characters lost in the source (?+pinyin, private use), not restored
    restored_chars: int = 0  # lost characters restored from the page's own char(reading) pairs
    pinyin_removed: int = 0

    @classmethod
    def total(cls, many: Iterable[CleanStats]) -> CleanStats:
        """Every counter summed over `many` (a chunk's pages, a wave's chunks)."""
        many = list(many)
        return cls(**{c.name: sum(getattr(s, c.name) for s in many) for c in fields(cls)})


@dataclass
class CleanPage:
    blocks: list[Block]
    meta: PageMeta
    script: str  # simplified / traditional / mixed
    stats: CleanStats


@dataclass
class Paragraph:
    text: str
    text_raw: str
    flags: list[str] = field(default_factory=list)
    heading: bool = False
    joined_from: int = 1  # how many blocks were rejoined into this paragraph
    breaks: list[int] = field(default_factory=list)  # offsets in `text` where a rejoined block starts


@dataclass
class Article:
    seq: int
    kind: str  # news / photo / section
    title: str | None
    paragraphs: list[Paragraph]
    subtitle: str | None = None
    kicker: str | None = None
    byline: str | None = None
    reporters: list[str] = field(default_factory=list)
    correspondents: list[str] = field(default_factory=list)
    photographers: list[str] = field(default_factory=list)
    event_date: dt.date | None = None


@dataclass
class ParsedDocument:
    """A file after the per-file stages: either articles, or a reason it was rejected."""

    file: SourceFile
    encoding: str | None = None
    script: str | None = None
    meta: PageMeta = field(default_factory=PageMeta)
    articles: list[Article] = field(default_factory=list)
    stats: CleanStats = field(default_factory=CleanStats)
    joins: int = 0
    text: str | None = None  # decoded text, dropped after clean
    clean: CleanPage | None = None
    paragraphs: list[Paragraph] | None = None

    @property
    def rejected(self) -> bool:
        return self.file.reject_reason is not None
