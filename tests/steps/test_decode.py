"""Decode: encodings detected from the bytes, strict decoding, clear reasons for bad bytes."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.steps.decode import DecodeError, decode_bytes
from tests.conftest import SEEDS

SIMPLIFIED = (SEEDS / "003_426d0e80c1052dd2.txt").read_text(encoding="utf-8")
# The body of page 002 (lines 36-76) without its pinyin and lost characters: Traditional
# text that Big5 encodes.
TRADITIONAL = re.sub(
    r"\(?[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)|[?\ue000-\uf8ff\xa0]",
    "",
    "\n".join((SEEDS / "002_1b2a2514c54c993d.txt").read_text(encoding="utf-8").splitlines()[35:76]),
)


@pytest.mark.parametrize(
    ("encoding", "recorded"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16"),  # with BOM (little-endian here)
        ("utf-16-be", None),  # BOM added below
        ("gbk", "gbk"),
        ("gb18030", "gbk"),  # the page needs nothing beyond GBK
    ],
)
def test_simplified_page_in_each_encoding(encoding: str, recorded: str | None) -> None:
    data = SIMPLIFIED.encode(encoding)
    if encoding == "utf-16-be":
        data, recorded = b"\xfe\xff" + data, "utf-16"
    decoded = decode_bytes(data)
    assert (decoded.text, decoded.encoding) == (SIMPLIFIED, recorded)


def test_traditional_page_in_big5_and_gbk() -> None:
    assert decode_bytes(TRADITIONAL.encode("big5")).encoding == "big5"
    assert decode_bytes(TRADITIONAL.encode("big5")).text == TRADITIONAL
    assert decode_bytes(TRADITIONAL.encode("gbk")).text == TRADITIONAL


def test_gb18030_four_byte_characters_are_recorded_as_gb18030() -> None:
    text = "新闻里的生僻字𠀾和欧元符号€。" * 3
    decoded = decode_bytes(text.encode("gb18030"))
    assert (decoded.text, decoded.encoding) == (text, "gb18030")


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (SIMPLIFIED.encode("utf-8")[:-1], "UTF-8"),
        (SIMPLIFIED.encode("gbk")[:-1], "GBK"),
        (TRADITIONAL.encode("big5") + "報".encode("big5")[:1], "BIG5"),
        (SIMPLIFIED.encode("utf-16")[:-1], "UTF-16"),
    ],
)
def test_truncated_multibyte_character_is_a_clear_reason(data: bytes, label: str) -> None:
    with pytest.raises(DecodeError, match=rf"^truncated: .* {label} character .* of {len(data)}\)$"):
        decode_bytes(data)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data: NUL byte"),
        ("2月7日新闻\n".encode("utf-16-le"), "UTF-16 without a byte-order mark"),
        (bytes([1, 2, 3, 4, 5, 6]) * 20 + "新闻".encode(), "control bytes"),
        ("café résumé naïve".encode("latin-1"), "not text in a supported encoding"),
        (bytes(range(0x80, 0x100)) * 8, "not valid GB18030 or Big5 either"),
        (bytes(range(0x81, 0xFF)) * 3, "not readable text: best guess gb18030 reads as 44% plausible"),
        (b"\xef\xbb\xbf" + "新闻".encode("gbk"), "UTF-8 byte-order mark but invalid"),
    ],
)
def test_bytes_that_are_not_text_are_rejected_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=re.escape(reason)):
        decode_bytes(data)


@settings(max_examples=60, deadline=None)
@given(start=st.integers(0, len(SIMPLIFIED) - 200), length=st.integers(12, 200))
def test_any_slice_of_a_simplified_page_round_trips_through_gbk(start: int, length: int) -> None:
    text = SIMPLIFIED[start : start + length]
    assert decode_bytes(text.encode("gbk")).text == text


@settings(max_examples=60, deadline=None)
@given(start=st.integers(0, len(TRADITIONAL) - 200), length=st.integers(12, 200))
def test_any_slice_of_a_traditional_page_round_trips_through_big5(start: int, length: int) -> None:
    text = TRADITIONAL[start : start + length]
    decoded = decode_bytes(text.encode("big5"))
    assert decoded.text == text
