"""Clean's fast paths give exactly what their plain definitions give.

clean_page takes shortcuts for speed (issue 8): t2s through a code-point table with OpenCC
only on pieces holding a phrase, whitespace collapsed per page, bracket-first pinyin
patterns, counting through numpy. Each is checked here against the plain definition it
replaces, on real text and on generated text built to hit the edge cases.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import opencc
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.steps.clean import (
    HAN,
    OTHER_SPACES,
    PINYIN_READING,
    PINYIN_SYLLABLE,
    TRADITIONAL_SHARE,
    detect_script,
    is_sentence_like,
    normalise_line,
    normalise_lines,
    page_readings,
    strip_pinyin,
    to_simplified,
    traditional_only_chars,
)

SEEDS = sorted((Path(__file__).parents[2] / "seeds").glob("*.txt"))
DICTIONARIES = Path(opencc.__file__).parent / "dictionary"


def _keys(name: str) -> list[str]:
    return [line.split("\t")[0] for line in (DICTIONARIES / name).read_text(encoding="utf-8").splitlines()]


PHRASES = _keys("TSPhrases.txt")
CHARACTERS = _keys("TSCharacters.txt")
OPENCC_T2S = opencc.OpenCC("t2s")


def test_t2s_equals_opencc_on_the_seeds_in_traditional() -> None:
    s2t = opencc.OpenCC("s2t")
    for seed in SEEDS:
        traditional = s2t.convert(seed.read_text(encoding="utf-8"))
        assert to_simplified(traditional)[0] == OPENCC_T2S.convert(traditional), seed.name


# Text that packs OpenCC's phrases (overlapping, nested, side by side), its characters,
# its separators and characters it leaves alone, so the longest-phrase-first rule and
# the cut at separators both matter.
_t2s_text = st.lists(
    st.one_of(
        st.sampled_from(PHRASES),
        st.sampled_from(PHRASES).map(lambda p: p[: len(p) // 2 + 1]),  # a phrase's start
        st.sampled_from(CHARACTERS),
        st.sampled_from([" ", "\n", "  \n ", ",", "。", "、", "“", "”", "-", "—", "\t", "\u3000"]),
        st.sampled_from("的了是在新闻报道中国人民发展abc123"),
    ),
    max_size=60,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=_t2s_text)
def test_t2s_equals_opencc_on_phrase_dense_text(text: str) -> None:
    converted, changed = to_simplified(text)
    assert converted == OPENCC_T2S.convert(text)
    if len(converted) == len(text):
        assert changed == sum(a != b for a, b in zip(text, converted, strict=True))


def test_other_spaces_are_all_whitespace_but_space_and_line_break() -> None:
    every = {chr(c) for c in range(sys.maxunicode + 1)}
    assert set(OTHER_SPACES) == {ch for ch in every if ch.isspace()} - {" ", "\n"}
    assert set(OTHER_SPACES) == {ch for ch in every if re.fullmatch(r"\s", ch)} - {" ", "\n"}


_messy_text = st.lists(
    st.one_of(
        st.sampled_from(["#", "## ", "#话题#", "\n", " ", "  ", "   ", "\t", "\xa0", "\u2003", "\u3000"]),
        st.sampled_from("标题新闻正文abc。"),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=_messy_text)
def test_page_normalisation_equals_line_by_line(text: str) -> None:
    lines, headings = normalise_lines(text)
    assert list(zip(lines, headings, strict=True)) == [normalise_line(line) for line in text.split("\n")]


_pinyin_text = st.lists(
    st.sampled_from(["報", "綠", "A", "?", " ", "(", ")", "(", ")", "bào", "lǜ", "zhōng", "app", "\n"]),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=_pinyin_text)
def test_bracket_first_pinyin_patterns_equal_the_plain_ones(text: str) -> None:
    assert strip_pinyin(text) == re.subn(rf"(?<=[{HAN}]){PINYIN_READING}", "", text)
    seen: dict[str, set[str]] = {}
    for char, reading in re.findall(rf"([{HAN}])\(({PINYIN_SYLLABLE})\)", text):
        seen.setdefault(reading, set()).add(char)
    assert page_readings(text) == {r: next(iter(cs)) for r, cs in seen.items() if len(cs) == 1}


@settings(max_examples=300, deadline=None)
@given(line=st.lists(st.sampled_from("。!?…”’」』)a文 "), max_size=8).map("".join))
def test_sentence_end_equals_its_pattern(line: str) -> None:
    assert is_sentence_like(line) == bool(re.search(r"[。!?…]$|[。!?…][”’」』)]+$", line))


@settings(max_examples=200, deadline=None)
@given(
    text=st.lists(
        st.sampled_from([*sorted(traditional_only_chars())[:50], "中", "文", "a", "\U00020000", "\ud800"]),
        max_size=80,
    ).map("".join)
)
def test_script_detection_equals_counting_characters(text: str) -> None:
    n_trad = sum(ch in traditional_only_chars() for ch in text)
    n_han = len(re.findall(f"[{HAN}]", text))
    expected = (
        "simplified" if n_trad == 0 else "traditional" if n_trad >= TRADITIONAL_SHARE * n_han else "mixed"
    )
    assert detect_script(text) == expected
