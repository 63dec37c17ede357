"""Discover: which files in the inbox are new file versions to load."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from flows.steps.model import SourceFile


@dataclass(frozen=True)
class KnownFile:
    """What the warehouse remembers of a file it has seen."""

    path: str
    size_bytes: int
    mtime_ns: int | None
    doc_id: str
    retryable: bool


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def list_inbox(inbox: Path) -> list[SourceFile]:
    """Regular files under the inbox (hidden files skipped), sorted by path."""
    found = []
    for root, dirs, files in os.walk(inbox):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            abs_path = Path(root) / name
            st = abs_path.stat()
            found.append(
                SourceFile(
                    path=abs_path.relative_to(inbox).as_posix(),
                    abs_path=str(abs_path),
                    size_bytes=st.st_size,
                    mtime_ns=st.st_mtime_ns,
                )
            )
    return found


def new_file_versions(
    files: list[SourceFile], known_by_path: dict[str, KnownFile], known_ids: set[str]
) -> list[SourceFile]:
    """Files whose content the warehouse does not hold yet.

    A file unchanged since it was last seen (same path, size and mtime) is not read
    again, so a run with nothing new costs a directory listing, not a hash of the inbox.
    """
    new: list[SourceFile] = []
    seen_ids: set[str] = set()
    for f in files:
        known = known_by_path.get(f.path)
        if known and not known.retryable and (known.size_bytes, known.mtime_ns) == (f.size_bytes, f.mtime_ns):
            continue
        f.doc_id = sha256_file(Path(f.abs_path))
        if f.doc_id in seen_ids or (f.doc_id in known_ids and not (known and known.retryable)):
            continue
        seen_ids.add(f.doc_id)
        new.append(f)
    return new
