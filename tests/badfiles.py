"""Generate an inbox's worth of bad input, and what the pipeline must make of each file.

`write_bad_files` drops one file (or link, pipe, folder link) per case next to the seeds;
`InboxWatcher` plays the two cases that need something to happen during a run: a file
still being written, and a file deleted between discovery and reading. It uses Linux
inotify: when discover has read a file to hash it (the file is closed after reading),
the watcher appends to it or deletes it, before the decode stage reads it again.

Run as a script to write the bad files into a folder and print them:
    uv run python -m tests.badfiles /tmp/bad-inbox
"""

from __future__ import annotations

import ctypes
import datetime as dt
import os
import select
import struct
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flows.steps.discover import display_path

IN_CLOSE_NOWRITE = 0x10
IN_NONBLOCK = 0o4000


@dataclass(frozen=True)
class BadFile:
    path: str  # as the documents table stores it (relative, valid UTF-8)
    case: str  # what is wrong with it, for the closing note
    reason: str  # a piece of the documents.reject_reason, or of the quarantine check names
    outcome: str = "rejected"  # rejected | retryable (loads on the next run) | quarantined rows


def page(published: str, *articles: tuple[str, str]) -> str:
    """A small page in the seeds' shape: a source line, then title / byline+body per article."""
    parts = [f"来源:牡丹晚报 {published}", ""]
    for title, body in articles:
        parts += [title, "", f"本报讯(记者 张明){body}", ""]
    return "\n".join(parts)


GOOD_TEXT = page(
    "2022-03-01 08:00:00",
    ("社区举办读书会", "3月1日,社区举办读书会,五十多位居民参加,大家交流了读书心得。"),
)


def write_bad_files(inbox: Path, outside: Path, max_file_bytes: int) -> list[BadFile]:
    """Write every bad case into `inbox` (and link targets into `outside`); return the expectations."""
    inbox.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    cases: list[BadFile] = []

    def add(name: str, data: bytes, case: str, reason: str, outcome: str = "rejected") -> None:
        (inbox / name).write_bytes(data)
        cases.append(BadFile(name, case, reason, outcome))

    add("bad_empty.txt", b"", "empty file", "empty file")
    add(
        "bad_binary.png",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        "binary file",
        "binary data",
    )
    add("bad_utf16_no_bom.txt", "春节假期结束了".encode("utf-16-le"), "UTF-16 without BOM", "binary data")
    add(
        "bad_unknown_encoding.txt",
        b"news \xff\xfe\xff report \xff" * 20,
        "bytes no supported encoding accepts",
        "not text in a supported encoding",
    )
    add(
        "bad_shift_jis.txt",
        "これは日本語のテキストです。東京で会議が開かれました。".encode("shift_jis"),
        "Japanese Shift-JIS (decodes as GBK, but not as Chinese)",
        "not readable text",
    )
    add(
        "bad_truncated_utf8.txt",
        GOOD_TEXT.encode("utf-8")[:-2],
        "truncated multi-byte sequence (UTF-8)",
        "truncated",
    )
    add(
        "bad_truncated_gbk.txt",
        (GOOD_TEXT + "开工").encode("gbk")[:-1],
        "truncated multi-byte sequence (GBK)",
        "truncated",
    )
    add("bad_blank.txt", b"  \n\n \t \n\r\n", "only whitespace", "no text")
    filler = ("本报讯 社区举办读书会,居民交流读书心得。\n" * (max_file_bytes // 40 + 10)).encode()
    add("bad_too_large.txt", filler, "file larger than NEWSETL_MAX_FILE_MB", "over the limit")

    # Links, a pipe, a name that is not UTF-8.
    target = outside / "secret.txt"
    target.write_text(GOOD_TEXT, encoding="utf-8")
    (inbox / "bad_link_outside.txt").symlink_to(target)
    cases.append(BadFile("bad_link_outside.txt", "symlink pointing outside the inbox", "outside the inbox"))
    (outside / "folder").mkdir(exist_ok=True)
    (outside / "folder" / "page.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (inbox / "bad_folder_link").symlink_to(outside / "folder", target_is_directory=True)
    cases.append(BadFile("bad_folder_link", "symlink to a folder outside the inbox", "outside the inbox"))
    (inbox / "bad_broken_link.txt").symlink_to(inbox / "no_such_file.txt")
    cases.append(BadFile("bad_broken_link.txt", "symlink to a missing file", "broken symlink"))
    os.mkfifo(inbox / "bad_pipe.txt")
    cases.append(BadFile("bad_pipe.txt", "named pipe (reading it would block)", "named pipe"))
    raw_name = b"bad_" + "新闻".encode("gbk") + b".txt"  # not UTF-8
    with open(os.path.join(os.fsencode(inbox), raw_name), "wb") as fh:
        fh.write(GOOD_TEXT.encode("utf-8"))
    cases.append(BadFile(display_path(raw_name)[0], "file name not UTF-8 (GBK bytes)", "not valid UTF-8"))

    # Changed by InboxWatcher during the run.
    add(
        "bad_growing.txt",
        page(
            "2022-03-02 08:00:00", ("老街重新开放", "3月2日,老街经过一年改造,重新开放,吸引市民前来。")
        ).encode(),
        "still being written (appended to during the run)",
        "changed while it was being read",
        "retryable",
    )
    add(
        "bad_vanishing.txt",
        GOOD_TEXT.replace("五十", "六十").encode(),
        "deleted right after discovery read it",
        "disappeared",
    )

    # Pages that decode fine but hold rows the data contract refuses.
    add(
        "bad_published_in_future.txt",
        page(
            f"{_next_year()}-02-08 19:41:46",
            ("春季招聘会举行", "招聘会吸引了三百多家企业参加,提供岗位五千多个。"),
        ).encode(),
        "page published in the future (document breaks the contract; its rows quarantined)",
        "published_at",
    )
    add(
        "bad_rows.txt",
        page(
            "2022-03-03 08:00:00",
            ("马拉松报名开始", f"{_next_year()}年5月1日,本市将举行春季马拉松比赛,报名从今天开始。"),
            ("老城墙修缮", "1920年5月4日建成的老城墙,经过一年修缮,日前重新开放。"),
            ("社区义诊", "3月3日,社区卫生服务中心举办义诊,两百多位居民受益。"),
        ).encode(),
        "article dates in the future and before 1939 (two articles quarantined, the third loads)",
        "event_date_in_news_range",
        "quarantined",
    )
    return cases


def _next_year() -> int:
    return dt.date.today().year + 1


class InboxWatcher(threading.Thread):
    """Acts on a file of the inbox the first time a reader closes it (discover's hash).

    `actions` maps a file name to what to do then, e.g. append bytes (the file is still
    being written) or delete it (it disappears before the decode stage reads it).
    """

    def __init__(self, inbox: Path, actions: dict[str, Callable[[Path], None]]):
        super().__init__(daemon=True)
        self.inbox, self.actions = inbox, dict(actions)
        self.done: list[str] = []
        self._stopping = threading.Event()
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._fd = self._libc.inotify_init1(IN_NONBLOCK)
        if self._fd < 0 or self._libc.inotify_add_watch(self._fd, os.fsencode(inbox), IN_CLOSE_NOWRITE) < 0:
            raise OSError(ctypes.get_errno(), "inotify unavailable")

    def run(self) -> None:
        while not self._stopping.is_set() and self.actions:
            ready, _, _ = select.select([self._fd], [], [], 0.05)
            if not ready:
                continue
            buf = os.read(self._fd, 64 * 1024)
            offset = 0
            while offset < len(buf):
                _, _, _, length = struct.unpack_from("iIII", buf, offset)
                name = buf[offset + 16 : offset + 16 + length].rstrip(b"\0").decode("utf-8", "replace")
                offset += 16 + length
                if name in self.actions:
                    self.actions.pop(name)(self.inbox / name)
                    self.done.append(name)

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=5)
        os.close(self._fd)


def append_more(path: Path) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write("\n\n记者还了解到,改造后的老街将举办夜市。\n")


def delete(path: Path) -> None:
    path.unlink()


RUN_ACTIONS: dict[str, Callable[[Path], None]] = {"bad_growing.txt": append_more, "bad_vanishing.txt": delete}


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "bad-inbox")
    for bad in write_bad_files(folder, folder.parent / (folder.name + "-outside"), 1 << 20):
        print(f"{bad.path:32} {bad.case}")
