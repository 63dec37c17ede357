"""The benchmark corpus generator: reproducible, and the mix of pages issue 8 asks for."""

from __future__ import annotations

import re
from pathlib import Path

from bench.corpus import CorpusWriter, write_corpus

READING_CUT = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]*$|^[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]*\)")


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a, b, c = (write_corpus(tmp_path / name, 0.2, seed) for name, seed in (("a", 3), ("b", 3), ("c", 4)))
    files = {name: sorted((tmp_path / name).iterdir()) for name in "abc"}
    assert a == b
    assert [f.read_bytes() for f in files["a"]] == [f.read_bytes() for f in files["b"]]
    assert [f.read_bytes() for f in files["a"]] != [f.read_bytes() for f in files["c"]]
    assert a.bytes >= 0.2 * 2**20 and c.bytes >= 0.2 * 2**20


def test_about_a_tenth_of_pages_traditional() -> None:
    writer = CorpusWriter(seed=5)
    pages = [writer.page() for _ in range(600)]
    share = sum(trad for _, trad in pages) / len(pages)
    assert 0.06 <= share <= 0.14
    traditional = next(text for text, trad in pages if trad)
    assert "報" in traditional or "來" in traditional or "(" in traditional


def test_about_a_fifth_of_body_paragraphs_repeat_an_earlier_one() -> None:
    writer = CorpusWriter(seed=6)
    seen: set[str] = set()
    exact = contained = 0
    for _ in range(4000):
        text, _ = writer.body_paragraph()
        if text in seen:
            exact += 1
        elif any(text in earlier and text != earlier for earlier, _ in writer.recent):
            contained += 1
        seen.add(text)
    assert 0.13 <= exact / 4000 <= 0.19
    assert 0.02 <= contained / 4000 <= 0.06


def test_column_breaks_never_cut_a_glued_reading() -> None:
    writer = CorpusWriter(seed=7)
    lines = [line for _ in range(300) for line in writer.page()[0].splitlines()]
    assert any(re.search(r"[\u4e00-\u9fff]\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)", line) for line in lines)
    assert not [line for line in lines if READING_CUT.search(line)]
