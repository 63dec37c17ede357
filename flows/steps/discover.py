"""Discover: which files in the inbox are new file versions to load, and reading them safely.

Nothing found in the inbox is dropped in silence: a file that cannot be used becomes a
`SourceFile` with a `reject_reason` a person understands, and ends as a `documents` row
with status 'rejected'. (Hidden files, names starting with '.', are skipped on purpose:
editors and downloaders write their temporary files that way.)

Identity of a rejected file (its `doc_id`, the documents key):
- a file that was read: the sha256 of the bytes read, like a loaded file;
- a file rejected without reading it (name not UTF-8, symlink out of the inbox, not a
  regular file, over the size limit, gone before it was read): a synthetic id, the
  sha256 of "unread", its path, size and mtime. It is stable, so the next run sees the
  same unchanged file as known and does not try again; it is 64 hex digits like any
  doc_id. Any change to the file (size or mtime) makes it a new version, examined again.

Retry: only a file that changed while the run read it (still being written) is marked
`retryable`; the next run reads it again even if its size and mtime did not change
since. Every other rejection would fail again on the same bytes, so it is not retried.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from flows.steps.model import SourceFile

CHANGED_WHILE_READ = (
    "the file changed while it was being read (still being written?); the next run reads it again"
)


@dataclass(frozen=True)
class KnownFile:
    """What the warehouse remembers of a file it has seen."""

    path: str
    size_bytes: int
    mtime_ns: int | None
    doc_id: str
    retryable: bool


def sha256_file(path: Path | str, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def synthetic_doc_id(path: str, size_bytes: int, mtime_ns: int) -> str:
    """The stable id of a file rejected without reading its bytes (see the module docstring)."""
    return hashlib.sha256(f"unread\0{path}\0{size_bytes}\0{mtime_ns}".encode()).hexdigest()


def display_path(raw: bytes) -> tuple[str, bool]:
    """A path as valid UTF-8 text, bytes that are not UTF-8 shown as \\xNN; and whether it was UTF-8."""
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return raw.decode("utf-8", "backslashreplace"), False


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB" if n >= 1 << 20 else f"{n / 1024:.0f} kB"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _inside(path: bytes, root: bytes) -> bool:
    return os.path.commonpath([path, root]) == root


def _relative(abs_raw: bytes, inbox_raw: bytes) -> bytes:
    """The path of an entry `list_inbox`'s walk found, relative to the inbox: the walk joins
    every name to the inbox's absolute path, so it is the rest of the string
    (`os.path.relpath`, which normalises both paths first, took a third of listing 88,000
    files). `rstrip`: the inbox `/` is the one absolute path ending in a slash."""
    return abs_raw[len(inbox_raw.rstrip(b"/")) + 1 :]


def examine(abs_raw: bytes, inbox: str, max_file_bytes: int) -> SourceFile:
    """One entry of the inbox (a file, or a symlink to a folder), as a SourceFile.

    Stats only, never reads the content: everything that can be decided from the name
    and the metadata is decided here, without opening a named pipe or a huge file.
    """
    inbox_raw = os.fsencode(inbox)
    rel, name_ok = display_path(_relative(abs_raw, inbox_raw))
    source = SourceFile(path=rel, inbox=inbox, size_bytes=0, mtime_ns=0)

    def reject(reason: str) -> SourceFile:
        source.reject_reason = reason
        source.doc_id = synthetic_doc_id(source.path, source.size_bytes, source.mtime_ns)
        return source

    try:
        link = os.lstat(abs_raw)
    except FileNotFoundError:
        return reject("the file disappeared while the inbox was being listed")
    source.size_bytes, source.mtime_ns = link.st_size, link.st_mtime_ns
    if not name_ok:
        return reject("the file name is not valid UTF-8 (shown here with \\x escapes); rename it to load it")
    if stat.S_ISLNK(link.st_mode):
        target = os.path.realpath(abs_raw)
        shown = display_path(target)[0]
        if not _inside(target, os.path.realpath(inbox_raw)):
            return reject(
                f"symlink pointing outside the inbox (to {shown}); copy the file into the inbox instead"
            )
        if not os.path.exists(target):
            return reject(f"broken symlink: its target {shown} does not exist")
    # Only a symlink needs a second stat, of what it points at: an inbox is mostly plain
    # files, and one stat each instead of two halves the listing of a large one.
    try:
        st = os.stat(abs_raw) if stat.S_ISLNK(link.st_mode) else link
    except FileNotFoundError:
        return reject("the file disappeared while the inbox was being listed")
    except OSError as exc:
        return reject(f"cannot read the file's details: {exc.strerror}")
    source.size_bytes, source.mtime_ns = st.st_size, st.st_mtime_ns
    if not stat.S_ISREG(st.st_mode):
        return reject(f"{_kind(st.st_mode)}, not a file with text")
    if st.st_size > max_file_bytes:
        return reject(
            f"the file is {_size(st.st_size)}, over the limit of {_size(max_file_bytes)} "
            "(NEWSETL_MAX_FILE_MB)"
        )
    return source


def list_inbox(inbox: Path, max_file_bytes: int = 64 << 20) -> list[SourceFile]:
    """Every non-hidden entry under the inbox, sorted by path: usable files, and rejected ones.

    Walks with bytes names so a name that is not UTF-8 is seen (and rejected) rather than
    crashing the walk; symlinks to folders are not followed (a link inside the inbox adds
    nothing, one to the outside is rejected like a symlinked file).
    """
    inbox_path = os.path.abspath(inbox)  # one string, shared by every file found (SourceFile)
    inbox_raw = os.fsencode(inbox_path)
    entries: list[bytes] = []
    unlisted: list[SourceFile] = []

    def cannot_list(exc: OSError) -> None:
        rel = display_path(os.path.relpath(os.fsencode(exc.filename), inbox_raw))[0]
        unlisted.append(
            SourceFile(
                path=rel,
                inbox=inbox_path,
                size_bytes=0,
                mtime_ns=0,
                doc_id=synthetic_doc_id(rel, 0, 0),
                reject_reason=f"cannot list this folder: {exc.strerror}",
            )
        )

    for root, dirs, files in os.walk(inbox_raw, onerror=cannot_list):
        dirs[:] = sorted(d for d in dirs if not d.startswith(b"."))
        linked_dirs = [d for d in dirs if os.path.islink(os.path.join(root, d))]
        entries += [
            os.path.join(root, d)
            for d in linked_dirs
            if not _inside(os.path.realpath(os.path.join(root, d)), os.path.realpath(inbox_raw))
        ]
        entries += [os.path.join(root, name) for name in files if not name.startswith(b".")]
    found = [examine(e, inbox_path, max_file_bytes) for e in entries] + unlisted
    return sorted(found, key=lambda f: f.path)


def _stat_key(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def hash_source(f: SourceFile) -> None:
    """Set `doc_id` from the file's bytes; reject the file if it vanished or changed meanwhile."""
    try:
        f.doc_id = sha256_file(f.abs_path)
        unchanged = _stat_key(f.abs_path) == (f.size_bytes, f.mtime_ns)
    except FileNotFoundError:
        f.reject_reason = "the file disappeared while it was being read"
        f.doc_id = synthetic_doc_id(f.path, f.size_bytes, f.mtime_ns)
        return
    except OSError as exc:
        f.reject_reason = f"cannot read the file: {exc.strerror}"
        f.doc_id = synthetic_doc_id(f.path, f.size_bytes, f.mtime_ns)
        return
    if not unchanged:
        f.reject_reason, f.retryable = CHANGED_WHILE_READ, True


def read_source(f: SourceFile) -> bytes | None:
    """The file's bytes, exactly the version discover hashed; None (and a reason) otherwise.

    The file is read again after discover: if it disappeared since, or its bytes, size or
    mtime differ from what discover saw, it is rejected (retryable when it changed).
    """
    try:
        data = Path(f.abs_path).read_bytes()
        unchanged = _stat_key(f.abs_path) == (f.size_bytes, f.mtime_ns)
    except FileNotFoundError:
        f.reject_reason = "the file disappeared between discovery and reading"
        f.doc_id = synthetic_doc_id(f.path, f.size_bytes, f.mtime_ns)
        return None
    except OSError as exc:
        f.reject_reason = f"cannot read the file: {exc.strerror}"
        f.doc_id = synthetic_doc_id(f.path, f.size_bytes, f.mtime_ns)
        return None
    if not unchanged or hashlib.sha256(data).hexdigest() != f.doc_id:
        f.doc_id = hashlib.sha256(data).hexdigest()  # what was read
        f.reject_reason, f.retryable = CHANGED_WHILE_READ, True
        return None
    return data


def new_file_versions(
    files: list[SourceFile], known_by_path: dict[str, KnownFile], known_ids: set[str]
) -> list[SourceFile]:
    """Files whose content (or, for a file rejected unread, whose version) the warehouse lacks.

    A file unchanged since it was last seen (same path, size and mtime) is not read
    again, so a run with nothing new costs a directory listing, not a hash of the inbox;
    a file rejected as retryable is read again.
    """
    new: list[SourceFile] = []
    seen_ids: set[str] = set()
    for f in files:
        known = known_by_path.get(f.path)
        if known and not known.retryable and (known.size_bytes, known.mtime_ns) == (f.size_bytes, f.mtime_ns):
            continue
        if f.reject_reason is None:
            hash_source(f)
        if f.doc_id in seen_ids or (f.doc_id in known_ids and not (known and known.retryable)):
            continue
        seen_ids.add(f.doc_id)
        new.append(f)
    return new
