"""Decode: bytes -> str, with the encoding detected from the bytes.

Order of evidence, strongest first:

1. a byte-order mark (UTF-8, UTF-16, UTF-32) decides, and the rest must decode strictly;
2. NUL or other control bytes mean binary data (or UTF-16 without a BOM): rejected;
3. valid UTF-8 is UTF-8 (GBK or Big5 Chinese text is practically never valid UTF-8);
4. otherwise the Chinese legacy encodings GB18030 (recorded as ``gbk`` when the bytes stay
   within GBK) and Big5 (``big5``, or Microsoft's ``cp950`` extension) are tried strictly.
   When both decode, the one whose text reads as Chinese wins: the share of common
   characters and Chinese punctuation (a misread file turns ``，。“”`` into kana, Greek or
   box-drawing symbols and spreads its Han characters over rare ones).

Decoding is always strict: a file cut in the middle of a multi-byte character, or with
bytes that no candidate encoding accepts, is rejected with a reason, never "replaced".
"""

from __future__ import annotations

import codecs
import functools
import re
from dataclasses import dataclass


class DecodeError(ValueError):
    """The bytes are not text we can read; the message is shown to users as the reason."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str


# UTF-32 first: its little-endian BOM starts with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control bytes that never occur in text (tab, LF, VT, FF, CR, SUB and ESC do).
_CONTROL_BYTES = re.compile(rb"[\x01-\x08\x0e-\x19\x1c-\x1f\x7f]")
# A few stray control bytes are tolerated in a text file; more than this share is binary.
MAX_CONTROL_SHARE = 0.01
# How much text the plausibility score reads: enough to decide, cheap on large files.
SCORE_SAMPLE_CHARS = 20_000
# A legacy decoding scoring below this does not read as Chinese: reject rather than guess.
MIN_PLAUSIBILITY = 0.80


def decode_bytes(data: bytes) -> Decoded:
    """Decode a page; raise DecodeError with a reason users can act on."""
    if not data:
        raise DecodeError("empty file (0 bytes)")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return Decoded(_strict(data, encoding, encoding.upper().replace("-SIG", "")), encoding)
    if b"\x00" in data:
        raise DecodeError(
            f"binary data: NUL byte at {data.index(0)} (not text, or UTF-16 without a byte-order mark)"
        )
    controls = len(_CONTROL_BYTES.findall(data))
    if controls > MAX_CONTROL_SHARE * len(data):
        raise DecodeError(f"binary data: {controls} control bytes in {len(data)} (not a text file)")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        if _truncated(exc, data) and _is_utf8(data[: exc.start]):
            raise DecodeError(_truncated_reason("UTF-8", exc)) from exc
        utf8_error = exc
    return _decode_legacy(data, utf8_error)


def _strict(data: bytes, encoding: str, label: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        if _truncated(exc, data):
            raise DecodeError(_truncated_reason(label, exc)) from exc
        raise DecodeError(f"{label} byte-order mark but invalid {label} at byte {exc.start}") from exc


def _truncated(exc: UnicodeDecodeError, data: bytes) -> bool:
    """The error is an incomplete character at the very end of the data."""
    return exc.end >= len(data) and (
        "unexpected end" in exc.reason or "incomplete" in exc.reason or "truncated" in exc.reason
    )


def _truncated_reason(label: str, exc: UnicodeDecodeError) -> str:
    return (
        f"truncated: the file ends in the middle of a {label} character "
        f"(incomplete multi-byte sequence at byte {exc.start} of {len(exc.object)})"
    )


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- GB18030 / GBK and Big5 --------------------------------------------------------------

# (label, codec) in order of preference when equally plausible.
_LEGACY = (("gbk", "gbk"), ("gb18030", "gb18030"), ("big5", "big5"), ("cp950", "cp950"))


@dataclass
class _Candidate:
    label: str
    text: str | None  # None when the data ends in the middle of a character
    error: UnicodeDecodeError | None
    score: float


def _decode_legacy(data: bytes, utf8_error: UnicodeDecodeError) -> Decoded:
    candidates: list[_Candidate] = []
    for label, codec in _LEGACY:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            if _truncated(exc, data):
                prefix = data[: exc.start].decode(codec, errors="replace")
                candidates.append(_Candidate(label, None, exc, plausibility(prefix)))
            continue
        candidates.append(_Candidate(label, text, None, plausibility(text)))
    # GB18030 only when the bytes need more than GBK; cp950 only when more than Big5.
    seen: set[str] = set()
    unique = []
    for c in candidates:
        family = "gb" if c.label in ("gbk", "gb18030") else "big5"
        if family not in seen:
            seen.add(family)
            unique.append(c)
    if not unique:
        raise DecodeError(
            f"not text in a supported encoding: invalid UTF-8 at byte {utf8_error.start}, "
            "and not valid GB18030 or Big5 either"
        )
    best = max(unique, key=lambda c: c.score)
    if best.score < MIN_PLAUSIBILITY:
        raise DecodeError(
            f"not readable text: best guess {best.label} reads as {best.score:.0%} plausible Chinese "
            f"(invalid UTF-8 at byte {utf8_error.start})"
        )
    if best.text is None:
        assert best.error is not None
        raise DecodeError(_truncated_reason(best.label.upper(), best.error))
    return Decoded(best.text, best.label)


@functools.cache
def _implausible_table() -> dict[int, None]:
    """str.translate table deleting everything a Chinese text is made of.

    Common Han characters are the first levels of GB2312 (3755 characters, Simplified) and
    Big5 (5401, Traditional); plus ASCII, whitespace and CJK punctuation. What survives the
    deletion is rare characters and symbols, the mark of a wrong decoding.
    """
    common: set[str] = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            common.update(bytes((lead, trail)).decode("gb2312", errors="ignore"))
    for lead in range(0xA4, 0xC7):
        for trail in (*range(0x40, 0x7F), *range(0xA1, 0xFF)):
            common.update(bytes((lead, trail)).decode("big5", errors="ignore"))
    common.update(chr(c) for c in range(0x20, 0x7F))
    common.update("\t\n\r\u3000\u00a0\ufeff，。、；：？！“”‘’（）《》〈〉【】「」『』…—·－～％")
    return dict.fromkeys(map(ord, common))


def plausibility(text: str) -> float:
    """Share of `text` (a sample of it) made of common Chinese characters, ASCII and punctuation."""
    sample = text[:SCORE_SAMPLE_CHARS]
    if not sample:
        return 0.0
    return 1.0 - len(sample.translate(_implausible_table())) / len(sample)
