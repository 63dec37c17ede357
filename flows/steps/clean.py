"""Clean: drop web boilerplate, strip glued pinyin, convert Traditional to Simplified.

Works line by line: every kept line becomes a `Block` that keeps the line exactly as
read in `raw`; `text` is the cleaned form. Whatever can run on the whole page runs once
on the page text (width, whitespace, script detection, t2s), and per-line work is skipped
on pages that cannot need it (no glued reading, no lost character): clean costs ~0.4 CPU s
per 10 MB of pages (`bench/clean_speed.py` checks any change against saved output).

Steps, in order:
1. width: full-width ASCII forms (`，：（）０-９Ａ-Ｚ`) become the half-width forms the pages
   already use (the seeds write `,` `:` `(` beside `。、“”`), so later rules see one form;
2. lines: Unicode NFC, control characters out, indentation (incl. full-width spaces and
   no-break spaces) and stray inner whitespace trimmed, Markdown heading marks removed
   (the line is then a heading);
3. lost characters: `?` (or U+FFFD, or a private-use character) followed by a reading,
   as in `日?qǐng)`, is a character lost in transmission. It is restored only when the same
   page glues that reading to exactly one character elsewhere (`報(bào)` -> `?bào)` is 報),
   flagged `restored_char`; otherwise it is removed and the line flagged `lost_char`. A
   private-use character left over is lost too. When the loss shifted the GB18030 bytes
   that follow by one (`?shù)厝肆Y` for `地人力資`), the shifted run is realigned;
4. pinyin readings glued after a Han character (`報(bào)`, `綠(lǜ)`) are removed;
5. script: `traditional` when at least 5% of the Han characters are Traditional-only,
   `mixed` when some are, else `simplified`. Traditional pages go through OpenCC `t2s`
   whole; on mixed pages only the lines holding Traditional characters do; Simplified
   pages are never touched by t2s;
6. boilerplate lines are dropped: navigation menus, breadcrumbs, font-size and share
   buttons, related links, comment prompts, footers. The source line
   (`来源:大众日报 2022-02-08 19:41:46`) and the editor line (`编辑:李太斗`) become `PageMeta`.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from pathlib import Path

import numpy as np
import opencc

from flows.steps.model import Block, CleanPage, CleanStats, PageMeta

# CJK Unified Ideographs, Extension A, and the supplementary ideographic planes.
HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0x20000, 0x2FFFF))
HAN = "".join(f"{chr(first)}-{chr(last)}" for first, last in HAN_RANGES)

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


# Bits of `_char_kinds()`.
_IS_HAN = 1
_IS_TRADITIONAL = 2


@functools.cache
def _char_kinds() -> np.ndarray:
    """Per code point, whether it is Han and whether it is Traditional-only: counting
    through this table with numpy costs ~3 ns a character, where `str.translate` with a
    dict costs ~50 and a regex class of ~4000 characters (some beyond the BMP) ~300."""
    kinds = np.zeros(0x110000, dtype=np.uint8)
    for first, last in HAN_RANGES:
        kinds[first : last + 1] = _IS_HAN
    kinds[[ord(ch) for ch in traditional_only_chars()]] |= _IS_TRADITIONAL
    return kinds


def _code_points(text: str) -> np.ndarray:
    # surrogatepass: a lone surrogate is one code point here, as it is one character in str.
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


@functools.cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@functools.cache
def _t2s_fast_path() -> tuple[np.ndarray, re.Pattern[str]]:
    """OpenCC t2s as a table of code points where that is exactly what it does, and a
    pattern of the phrases that make it do more.

    t2s is one dictionary group (config/t2s.json): TSPhrases, then TSCharacters. OpenCC
    cuts the text at its separators (`split_chars_re`: whitespace, punctuation), replaces
    phrases in each piece (longest first) and then, outside the phrases, every character
    of TSCharacters by its first candidate. TSCharacters' keys are single characters, so
    are their first candidates, and no key is a separator: a piece without a phrase
    converts exactly as a character-for-character table (numpy, ~2 ns a character;
    opencc-python is pure Python, ~1 MB/s). Only the pieces holding one of the ~280
    phrases (under 1 % of them on the corpus) need OpenCC itself.
    """
    dictionaries = Path(opencc.__file__).parent / "dictionary"
    simplified = np.arange(0x110000, dtype=np.uint32)
    for line in (dictionaries / "TSCharacters.txt").read_text(encoding="utf-8").splitlines():
        trad, candidates = line.strip().split("\t")  # read as OpenCC reads it
        simplified[ord(trad)] = ord(candidates.split(" ")[0])
    phrases = [
        line.strip().split("\t")[0]
        for line in (dictionaries / "TSPhrases.txt").read_text(encoding="utf-8").splitlines()
    ]
    return simplified, re.compile("|".join(map(re.escape, phrases)))


def _t2s_characters(text: str) -> str:
    """TSCharacters on every character of the text, phrases ignored."""
    simplified = _t2s_fast_path()[0]
    return simplified[_code_points(text)].tobytes().decode("utf-32-le", "surrogatepass")


def _t2s_convert(text: str) -> str:
    """Exactly `OpenCC("t2s").convert(text)`, with OpenCC run only on pieces holding a phrase."""
    phrase = _t2s_fast_path()[1]
    converted = _t2s_characters(text)
    if not phrase.search(text):
        return converted
    # A line break is one of OpenCC's separators and the table keeps line breaks where
    # they are, so the lines of both texts correspond, and a line without a phrase is done.
    lines = text.split("\n")
    out = converted.split("\n")
    converter = _t2s()
    for i, line in enumerate(lines):
        if phrase.search(line):
            parts, start = [], 0
            for j, piece in enumerate(converter.split_chars_re.split(line)):  # piece, separator, ...
                end = start + len(piece)
                parts.append(
                    converter.convert(piece) if j % 2 == 0 and phrase.search(piece) else out[i][start:end]
                )
                start = end
            out[i] = "".join(parts)
    return "\n".join(out)


# At least this share of Traditional-only characters makes a page Traditional.
TRADITIONAL_SHARE = 0.05


def detect_script(text: str) -> str:
    """simplified / traditional / mixed, from the share of Traditional-only characters."""
    kinds = _char_kinds()[_code_points(text)]
    n_trad = np.count_nonzero(kinds & _IS_TRADITIONAL)
    if n_trad == 0:
        return "simplified"
    if n_trad >= TRADITIONAL_SHARE * np.count_nonzero(kinds & _IS_HAN):
        return "traditional"
    return "mixed"


def has_traditional(text: str) -> bool:
    return not traditional_only_chars().isdisjoint(text)


def to_simplified(text: str) -> tuple[str, int]:
    """OpenCC t2s; returns the text and how many characters it changed."""
    converted = _t2s_convert(text)
    if len(converted) == len(text):
        changed = int(np.count_nonzero(_code_points(text) != _code_points(converted)))
    else:  # a phrase mapping changed the length: count the characters that differ in total
        changed = abs(len(text) - len(converted)) + sum(map(str.__ne__, text, converted))
    return converted, changed


# --- pinyin annotations and lost characters ----------------------------------------

_VOWELS = "aeiouüêāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
# One pinyin syllable: optional initial, 1-3 vowels (tone marks allowed), optional final.
# Lowercase only: "(AI)" or "(APP)" after a Han character is text, not a reading; and
# "(app)" is no syllable ("pp" is no final).
PINYIN_SYLLABLE = rf"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?[{_VOWELS}]{{1,3}}(?:ng|n|r)?"
# A reading in brackets: 報(bào). Rust-regex compatible: schemas/checks.py uses it in polars.
PINYIN_READING = rf"[((]{PINYIN_SYLLABLE}[))]"
# ... glued after a Han character (the look-behind keeps the character). Both patterns
# start at the bracket and look back for the character: a pattern that starts with a
# class of Han characters is tried at every character of the page, one that starts with
# a bracket only where a bracket is (20-40x faster, same matches).
_PINYIN_AFTER_HAN = re.compile(rf"[((](?<=[{HAN}][((]){PINYIN_SYLLABLE}[))]")
_CHAR_WITH_READING = re.compile(rf"\((?<=([{HAN}])\()({PINYIN_SYLLABLE})\)")  # (char, reading)
# A lost character: "?" (or U+FFFD, or private use) plus its reading; the opening bracket
# is often lost with it (日?qǐng)).
_LOST_WITH_READING = re.compile(rf"[?\ufffd\ue000-\uf8ff]\(?(?P<reading>{PINYIN_SYLLABLE})\)")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff\ufffd]")
_MAYBE_LOST = re.compile("[?\ufffd\ue000-\uf8ff]")
# Bytes shifted by one after a lost character decode as a run ending in a private-use
# character and an ASCII byte (a GBK trail byte 0x40-0x7E read on its own).
_SHIFTED_RUN = re.compile("[\u4e00-\u9fff]{0,8}[\ue000-\uf8ff][\x40-\x7e]?")


def page_readings(text: str) -> dict[str, str]:
    """reading -> character, for readings the page glues to exactly one character."""
    seen: dict[str, set[str]] = {}
    for char, reading in _CHAR_WITH_READING.findall(text):
        seen.setdefault(reading, set()).add(char)
    return {reading: next(iter(chars)) for reading, chars in seen.items() if len(chars) == 1}


def _realign_shifted(run: str) -> str | None:
    """The run re-read one byte later in GB18030, if that gives plain Han characters."""
    try:
        data = run.encode("gb18030")
        fixed = data[1:].decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None
    return fixed if fixed and all("\u4e00" <= ch <= "\u9fff" for ch in fixed) else None


def restore_lost(line: str, readings: dict[str, str]) -> tuple[str, int, int]:
    """Handle lost characters in a line: (text, characters lost, characters restored)."""
    if not _MAYBE_LOST.search(line):
        return line, 0, 0
    out: list[str] = []
    pos = lost = restored = 0
    for m in _LOST_WITH_READING.finditer(line):
        if m.start() < pos:  # inside a run already realigned
            continue
        out.append(line[pos : m.start()])
        pos = m.end()
        shifted = _SHIFTED_RUN.match(line, pos)
        fixed = _realign_shifted(shifted.group()) if shifted else None
        if shifted and fixed is not None:
            # The reading belongs to the byte garbage, not to the lost character: drop both.
            out.append(fixed)
            pos = shifted.end()
            lost += 1
        elif char := readings.get(m["reading"]):
            out.append(char)
            restored += 1
        else:
            lost += 1
    out.append(line[pos:])
    text, leftover = _PRIVATE_USE.subn("", "".join(out))
    return text, lost + leftover, restored


def strip_pinyin(text: str) -> tuple[str, int]:
    """Remove readings glued after Han characters: (text, readings removed)."""
    return _PINYIN_AFTER_HAN.subn("", text)


# --- normalisation -------------------------------------------------------------------

# Full-width ASCII forms -> ASCII, ideographic space -> space.
_HALF_WIDTH = {chr(0xFF01 + i): chr(0x21 + i) for i in range(94)} | {"\u3000": " "}
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")
# Control and zero-width characters; line breaks are gone already (the text is split).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u2060\ufeff]")
_SPACES = re.compile(r"\s+")
_SPACES_IN_LINE = re.compile(r"[^\S\n]+")
# Every whitespace character but space and line break (str.isspace, which is regex \s;
# tests/steps/test_clean.py checks the list against all of Unicode).
OTHER_SPACES = (
    "\t\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_OTHER_SPACE = re.compile(f"[{OTHER_SPACES}]")
# "## title"; a Weibo-style "#topic#" is text, not a heading.
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s*(?=[^#\s])(?!.*#)")


def normalise_text(text: str) -> str:
    """Whole-text normalisation that keeps line breaks where they are."""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    # One str.replace per full-width form the page uses: a page holds a few of them, and
    # str.translate with a dict looks up every character of the page (~15x slower).
    for full in set(_FULL_WIDTH.findall(text)):
        text = text.replace(full, _HALF_WIDTH[full])
    return _CONTROL.sub("", text)


def normalise_line(line: str) -> tuple[str, bool]:
    """Trim and collapse whitespace, remove a Markdown heading mark: (line, is_heading)."""
    line = _SPACES.sub(" ", line).strip()
    heading = _MARKDOWN_HEADING.match(line)
    if heading:
        line = line[heading.end() :]
    return line, heading is not None


def _collapse_spaces(text: str) -> str:
    """Every run of whitespace within a line becomes one space; line breaks stay."""
    if _OTHER_SPACE.search(text):
        return _SPACES_IN_LINE.sub(" ", text)
    # Only spaces: halving runs with str.replace is 10x faster than the regex, which
    # tests every character against the whitespace class.
    while "  " in text:
        text = text.replace("  ", " ")
    return text


def normalise_lines(text: str) -> tuple[list[str], list[bool]]:
    """`normalise_line` on every line of a text, whitespace collapsed in one pass."""
    lines = [line.strip() for line in _collapse_spaces(text).split("\n")]
    headings = [False] * len(lines)
    for i, line in enumerate(lines):
        if line.startswith("#"):
            lines[i], headings[i] = normalise_line(line)
    return lines, headings


# --- boilerplate and page metadata ----------------------------------------------------

_SOURCE_LINE = re.compile(
    r"^(?:来源|稿源|出处)[:]\s*(?P<source>[^\s\d][^\s]*?)?\s*"
    r"(?:(?:发布)?时间[:]\s*)?"
    r"(?P<ts>\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?)?\s*$"
)
_PUBLISHED_LINE = re.compile(
    r"^(?:发布时间|发布日期|时间)[:]\s*(?P<ts>\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?)\s*$"
)
_EDITOR_LINE = re.compile(
    r"^[(\[]?(?:编辑|责任编辑|责编|编审|值班编辑)[:]\s*(?P<editor>[\u4e00-\u9fff]{2,4}(?:\s+[\u4e00-\u9fff]{2,4})*)\s*[)\]]?$"
)
# Any of the three (named groups unnamed: the patterns share names).
_ANY_META_LINE = re.compile(
    "|".join(
        re.sub(r"\(\?P<\w+>", "(?:", f"(?:{p.pattern})")
        for p in (_SOURCE_LINE, _PUBLISHED_LINE, _EDITOR_LINE)
    )
)
# Whole lines that are page furniture wherever they stand.
_FURNITURE = re.compile(
    "|".join(
        (
            r"^(?:您的位置|您现在的位置|你的位置|当前位置|所在位置)\s*[:>]",  # breadcrumb
            r"^首页\s*[>»›]",  # breadcrumb without a label
            r"^A\s*\+\s*A\s*-$",  # font size
            r"^(?:字号|字体)[:]",
            # buttons and section labels, alone or several on a line ("【打印】【关闭】")
            r"^(?:[【\[]?(?:分享|分享到|一键分享|打印|打印本页|关闭|关闭窗口|收藏|返回顶部|返回首页|扫一扫"
            r"|相关推荐|相关新闻|相关阅读|相关文章|推荐阅读|延伸阅读|热点推荐|热门推荐"
            r"|网友评论|我要评论|发表评论|查看评论|更多评论|评论)[】\]]?\s*)+[:]?$",
            r"^(?:上一篇|下一篇)[:]",
            r"^(?:共\d+条评论|\d+条评论|请文明上网|文明上网|理性发言|登录后(?:发表)?评论)",
            r"^[^|。]{1,24}(?:\s*\|\s*[^|。]{1,24}){2,}$",  # menu: three or more items between bars
        )
    )
)
# Footer markers: only on lines that are not sentences (a news paragraph may mention a
# licence; a footer line never ends like a sentence).
# (The line-start marker is kept out of the pattern: a `^` alternative stops the regex
# engine from skipping to the characters a marker can start with, 3x slower.)
_FOOTER = re.compile(
    r"版权所有|版权声明|Copyright|©|ICP备|ICP证|公网安备|许可证编号|许可证\(.{1,3}\)字"
    r"|举报电话|举报邮箱|违法和不良信息"
)
_FOOTER_START = "关于我们"
# A sentence ends in 。!?…, maybe followed by closing quotes or brackets.
_SENTENCE_ENDS = ("。", "!", "?", "…")
_CLOSERS = "”’」』)"
# A navigation menu: four or more consecutive short lines with no punctuation, above the
# first sentence of the page or below the last (a headline stack typed without blank lines
# is at most three lines, and sits between sentences or right above the first one).
NAV_ITEM_MAX_CHARS = 8
_NAV_ITEM = re.compile(rf"^[\w·]{{1,{NAV_ITEM_MAX_CHARS}}}$")
NAV_MIN_LINES = 4


def is_sentence_like(line: str) -> bool:
    return line.rstrip(_CLOSERS).endswith(_SENTENCE_ENDS)


def is_boilerplate(line: str) -> bool:
    """A cleaned (Simplified) line that is page furniture, not text."""
    if _FURNITURE.match(line):  # every alternative is anchored at the start
        return True
    footer = line.startswith(_FOOTER_START) or _FOOTER.search(line) is not None
    return footer and not is_sentence_like(line)


def _parse_timestamp(ts: str | None) -> dt.datetime | None:
    if not ts:
        return None
    parts = [int(p) for p in re.findall(r"\d+", ts)]
    try:
        return dt.datetime(*parts[:6])  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _read_meta(line: str, meta: PageMeta) -> bool:
    """Take the page's source, publish time or editor from a metadata line."""
    if not _ANY_META_LINE.match(line):  # one test instead of three on most lines
        return False
    if m := _SOURCE_LINE.match(line):
        if not m["source"] and not m["ts"]:
            return False
        meta.source = meta.source or m["source"]
        meta.published_at = meta.published_at or _parse_timestamp(m["ts"])
        return True
    if m := _PUBLISHED_LINE.match(line):
        meta.published_at = meta.published_at or _parse_timestamp(m["ts"])
        return True
    if m := _EDITOR_LINE.match(line):
        meta.editor = meta.editor or m["editor"]
        return True
    return False


def _nav_lines(lines: list[str]) -> set[int]:
    """Indexes of lines forming navigation menus (runs of short lines with no blank between)."""
    first = next((i for i, line in enumerate(lines) if is_sentence_like(line)), len(lines))
    last = next((i for i in reversed(range(len(lines))) if is_sentence_like(lines[i])), -1)
    nav: set[int] = set()
    run: list[int] = []
    for i, line in enumerate([*lines, ""]):
        if line and len(line) <= NAV_ITEM_MAX_CHARS and _NAV_ITEM.match(line):
            run.append(i)
            continue
        if len(run) >= NAV_MIN_LINES and (run[-1] < first or run[0] > last):
            nav.update(run)
        run = []
    return nav


# --- the page ---------------------------------------------------------------------------


def clean_page(text: str) -> CleanPage:
    """Clean a decoded page into one block per kept line."""
    stats = CleanStats()
    raw_lines = text.splitlines()
    if not raw_lines:  # "" (a file holding only a byte-order mark): "".split("\n") would give one line
        return CleanPage(blocks=[], meta=PageMeta(), script="simplified", stats=stats)
    normal = normalise_text("\n".join(raw_lines))
    lines, headings = normalise_lines(normal)
    flags: dict[int, list[str]] = {}  # line index -> quality flags; most lines have none
    # Normalising a line only drops whitespace and heading marks, so a line can hold a
    # lost character or a glued reading only if the page does: most pages skip this.
    # (A "?" alone is punctuation: restore_lost changes a line only at one of these.)
    has_lost = bool(_LOST_WITH_READING.search(normal) or _PRIVATE_USE.search(normal))
    if has_lost or _PINYIN_AFTER_HAN.search(normal):
        readings = page_readings(normal) if has_lost else {}
        for i, line in enumerate(lines):
            if not line:
                continue
            line, lost, restored = restore_lost(line, readings)
            line, removed = strip_pinyin(line)
            stats.lost_chars += lost
            stats.restored_chars += restored
            stats.pinyin_removed += removed
            if lost:
                flags.setdefault(i, []).append("lost_char")
            if restored:
                flags.setdefault(i, []).append("restored_char")
            lines[i], _ = normalise_line(line)  # removals may leave doubled spaces

    cleaned = "\n".join(lines)
    script = detect_script(cleaned)
    if script == "traditional":
        converted, stats.converted_chars = to_simplified(cleaned)
        lines = converted.split("\n")
    elif script == "mixed":
        for i, line in enumerate(lines):
            if has_traditional(line):
                lines[i], changed = to_simplified(line)
                stats.converted_chars += changed

    meta = PageMeta()
    nav = _nav_lines(lines)
    blocks: list[Block] = []
    gap: list[str] = []
    for i, (line, raw) in enumerate(zip(lines, raw_lines, strict=True)):
        if line and (i in nav or _read_meta(line, meta) or is_boilerplate(line)):
            stats.boilerplate_lines += 1
            line = ""
        if not line:
            gap.append(raw)
            continue
        blocks.append(Block(text=line, raw=raw, flags=flags.get(i, []), heading=headings[i], gap=gap))
        gap = []
    return CleanPage(blocks=blocks, meta=meta, script=script, stats=stats)
