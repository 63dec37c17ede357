"""Clean: drop web boilerplate, strip glued pinyin, convert Traditional to Simplified.

Works line by line and groups non-blank lines into `Block`s. Every block keeps the
lines exactly as read in `raw`; `text` is the cleaned form.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from pathlib import Path

import opencc

from flows.steps.model import Block, CleanPage, CleanStats, PageMeta

# --- Traditional / Simplified ------------------------------------------------------


@functools.cache
def traditional_only_chars() -> frozenset[str]:
    """Characters that OpenCC's t2s always changes: a Simplified text never uses them."""
    table = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    chars = set()
    for line in table.read_text(encoding="utf-8").splitlines():
        trad, _, simp = line.partition("\t")
        if trad not in simp.split(" "):
            chars.add(trad)
    return frozenset(chars)


@functools.cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


_HAN = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff]")


def detect_script(text: str) -> str:
    """simplified / traditional / mixed, from the share of Traditional-only characters."""
    trad = traditional_only_chars()
    han = _HAN.findall(text)
    if not han:
        return "simplified"
    n_trad = sum(ch in trad for ch in han)
    share = n_trad / len(han)
    if share >= 0.05:
        return "traditional"
    if n_trad >= 3:
        return "mixed"
    return "simplified"


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


# --- pinyin annotations --------------------------------------------------------------

# Lowercase only: "(AI)" or "(APP)" after a Han character is text, not a reading.
_PINYIN_LETTERS = "a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
# A reading in half- or full-width brackets: 報(bào)
PINYIN_READING = rf"[((][{_PINYIN_LETTERS}]{{1,7}}[))]"
# ... glued after a Han character (the look-behind keeps the character).
PINYIN_AFTER_HAN = re.compile(rf"(?<=[\u3400-\u9fff]){PINYIN_READING}")
# The character was lost in transmission: "?" or a private-use character + reading.
LOST_CHAR = re.compile(rf"[?？\ue000-\uf8ff]{PINYIN_READING}|[\ue000-\uf8ff]")


def strip_pinyin(text: str) -> tuple[str, int, int]:
    """Remove glued pinyin. Returns (text, annotations removed, lost characters)."""
    text, lost = LOST_CHAR.subn("", text)
    text, removed = PINYIN_AFTER_HAN.subn("", text)
    return text, removed, lost


# --- boilerplate --------------------------------------------------------------------

_SOURCE_LINE = re.compile(
    r"^(?:来源|來源)[::]\s*(?P<source>\S+?)\s+(?P<ts>\d{4}-\d{2}-\d{2}(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?)\s*$"
)
_EDITOR_LINE = re.compile(r"^(?:编辑|編輯|责任编辑|責任編輯)[::]\s*(?P<editor>\S{2,4})\s*$")
_BOILERPLATE = [
    re.compile(p)
    for p in (
        r"^(?:您的位置|您现在的位置|当前位置)[::]",
        r"^A\s*[+＋]\s*A\s*[-－]$",
        r"^(?:分享|分享到|打印|关闭|收藏|相关推荐|相关新闻|网友评论|我要评论|发表评论)[::]?$",
        r"版权所有|版权声明|ICP备|公网安备|许可证编号|举报电话|举报邮箱|违法和不良信息",
        r"^关于我们\s*[|｜]",
    )
]
# Short navigation menu entries at the top of a web page (before the first real text).
_NAV_ITEM = re.compile(r"^[\u4e00-\u9fff]{2,4}$")


def _is_boilerplate(line: str) -> bool:
    return any(p.search(line) for p in _BOILERPLATE)


def _parse_timestamp(ts: str) -> dt.datetime | None:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(re.sub(r"\s+", " ", ts), fmt)
        except ValueError:
            continue
    return None


# --- normalisation ------------------------------------------------------------------

_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s*")
_INDENT = re.compile(r"^[\s\u3000]+|[\s\u3000]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\ufeff]")


def normalise_line(line: str) -> tuple[str, bool]:
    """Strip indentation, control characters and Markdown heading marks."""
    line = _CONTROL.sub("", unicodedata.normalize("NFC", line))
    line = _INDENT.sub("", line)
    heading = bool(_MARKDOWN_HEADING.match(line))
    if heading:
        line = _MARKDOWN_HEADING.sub("", line)
    return line, heading


def clean_page(text: str) -> CleanPage:
    """Clean a decoded page into blocks of text."""
    script = detect_script(text)
    stats = CleanStats()
    meta = PageMeta()
    blocks: list[Block] = []
    current: list[tuple[str, str, list[str], bool]] = []

    def flush() -> None:
        if current:
            blocks.append(
                Block(
                    text="".join(t for t, _, _, _ in current),
                    raw="\n".join(r for _, r, _, _ in current),
                    flags=sorted({f for _, _, fl, _ in current for f in fl}),
                    heading=any(h for _, _, _, h in current),
                )
            )
            current.clear()

    lines = text.splitlines()
    seen_text = False
    for raw in lines:
        line, heading = normalise_line(raw)
        if not line:
            flush()
            continue
        flags: list[str] = []
        line, removed, lost = strip_pinyin(line)
        stats.pinyin_removed += removed
        if lost:
            stats.lost_chars += lost
            flags.append("lost_char")
        if script != "simplified":
            converted = to_simplified(line)
            stats.converted_chars += sum(a != b for a, b in zip(line, converted, strict=False))
            line = converted
        if m := _SOURCE_LINE.match(line):
            meta.source = m["source"]
            meta.published_at = _parse_timestamp(m["ts"])
            stats.boilerplate_lines += 1
            flush()
            continue
        if m := _EDITOR_LINE.match(line):
            meta.editor = m["editor"]
            stats.boilerplate_lines += 1
            flush()
            continue
        if _is_boilerplate(line) or (not seen_text and _NAV_ITEM.match(line) and not heading):
            stats.boilerplate_lines += 1
            flush()
            continue
        seen_text = True
        current.append((line, raw, flags, heading))
    flush()
    return CleanPage(blocks=blocks, meta=meta, script=script, stats=stats)
