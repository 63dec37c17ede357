"""A seeded, realistic corpus of N MB of pages for the benchmarks, written into an inbox.

    uv run python -m bench.corpus --mb 10 --out /tmp/inbox-10     # prints what it wrote

Material: the seeds' own clean sentences, headlines and names (`bench.restore_corpus`,
issue 3's generator of damaged pages). Each body paragraph strings 2-5 of those
sentences together with 60 % of their content words (nouns, verbs, adjectives... by
jieba's part-of-speech tags) swapped for other words of the seeds of the same kind and
fresh figures: the text reads and segments like the seeds, yet is unique (no near or
contained copies) unless copied on purpose. Pages carry the seeds' damage kinds:

- ~20 % of body paragraphs are copies of a recent paragraph (another page or the same
  one): 16 % exact copies, 4 % a contiguous part of one (containment);
- 30 % of body paragraphs are cut by a page/column break (blank line mid-sentence);
- bylines `本报讯(通讯员 … 牡丹晚报全媒体记者 …)`, photo captions ending `通讯员 X Y 摄`,
  a Markdown section heading now and then;
- 40 % of pages are web pages: navigation menu, breadcrumb, source/time line, `A+A-`,
  `分享`, editor line and copyright/ICP footer;
- ~10 % of pages are Traditional (OpenCC s2t) with pinyin glued after the characters page
  002 annotates and, rarely, a lost character (`?` + reading).

The same `--seed` and `--mb` give the same files, byte for byte.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import logging
import random
import re
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import opencc

from bench.restore_corpus import NAMES, NAV, PHOTO_TITLES, TITLES, body_paragraphs, readings

DUP_EXACT_SHARE, DUP_PART_SHARE = 0.16, 0.04
BREAK_SHARE = 0.30
WEB_SHARE, TRADITIONAL_SHARE, LOST_CHAR_SHARE = 0.40, 0.10, 0.05
RECENT = 2000  # copies are drawn from the last RECENT paragraphs (reprints within days)
_SENTENCE = re.compile(r"[^。!?]+[。!?][”’]?")


# Words of these parts of speech (jieba.posseg flags) are swapped for others of the same kind.
SWAPPED_FLAGS = frozenset({"n", "v", "vn", "a", "ad", "d", "ns", "nr", "nt", "nz", "l", "an"})
SWAP_SHARE = 0.6
_HAN = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class Material:
    """The seeds' sentences as (word, flag) lists, words by flag, and Traditional forms."""

    sentences: tuple[tuple[tuple[str, str], ...], ...]
    words_by_flag: dict[str, tuple[str, ...]]
    traditional: dict[str, str]  # word -> Traditional with page 002's pinyin glued on
    titles: tuple[str, ...]
    titles_trad: tuple[str, ...]
    names: tuple[str, ...]


@functools.cache
def material() -> Material:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    texts = dict.fromkeys(
        s.strip() for p in body_paragraphs() for s in _SENTENCE.findall(p) if len(s.strip()) >= 8
    )
    sentences = tuple(tuple((w.word, w.flag) for w in jieba.posseg.lcut(t)) for t in texts)
    by_flag: dict[str, set[str]] = {}
    for word, flag in (pair for s in sentences for pair in s):
        if flag in SWAPPED_FLAGS and len(word) >= 2:
            by_flag.setdefault(flag, set()).add(word)
    words = {word for s in sentences for word, _ in s}
    titles = (*TITLES, *PHOTO_TITLES)
    return Material(
        sentences,
        {flag: tuple(sorted(ws)) for flag, ws in by_flag.items()},
        {w: _traditional(w) for w in sorted(words)},
        titles,
        tuple(map(_traditional, titles)),
        NAMES,
    )


@functools.cache
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def _traditional(text: str) -> str:
    """Page 002's script: Traditional characters, some with their pinyin glued after them."""
    marks = readings()
    return "".join(ch + (f"({marks[ch]})" if ch in marks else "") for ch in _s2t().convert(text))


@dataclass
class _Page:
    rng: random.Random
    traditional: bool
    lines: list[str] = field(default_factory=list)

    def blank(self) -> None:
        self.lines.append("")

    def paragraph(self, text: str, breakable: bool = True) -> None:
        """One printed paragraph; a break cuts it mid-sentence with a blank line."""
        cut = self.rng.randrange(5, len(text) - 5) if breakable and len(text) > 20 else len(text)
        # Between two Han characters, as a column break falls: never right after a
        # sentence end, nor inside or before a glued reading like 進(jìn).
        while cut < len(text) - 5 and not (_HAN.match(text[cut - 1]) and _HAN.match(text[cut])):
            cut += 1
        if cut < len(text) - 5 and self.rng.random() < BREAK_SHARE:
            self.lines += [text[:cut], "", text[cut:]]
        else:
            self.lines.append(text)
        self.blank()


class CorpusWriter:
    """Generates pages one by one; `recent` holds the paragraphs copies are drawn from."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.m = material()
        self.recent: deque[tuple[str, str]] = deque(maxlen=RECENT)  # (simplified, traditional)

    def _fresh_paragraph(self) -> tuple[str, str]:
        """2-5 of the seeds' sentences with most content words swapped, and fresh figures."""
        rng, m = self.rng, self.m
        simp, trad = [], []
        for _ in range(rng.randint(2, 5)):
            for word, flag in m.sentences[rng.randrange(len(m.sentences))]:
                pool = m.words_by_flag.get(flag) if len(word) >= 2 else None
                if pool and rng.random() < SWAP_SHARE:
                    word = pool[rng.randrange(len(pool))]
                elif word.isdigit():
                    word = str(rng.randint(2, 2999))
                simp.append(word)
                trad.append(m.traditional.get(word, word))
        return "".join(simp), "".join(trad)

    def body_paragraph(self) -> tuple[str, str]:
        roll = self.rng.random()
        if self.recent and roll < DUP_EXACT_SHARE:
            return self.recent[self.rng.randrange(len(self.recent))]
        if self.recent and roll < DUP_EXACT_SHARE + DUP_PART_SHARE:
            simp, _ = self.recent[self.rng.randrange(len(self.recent))]
            start = self.rng.randrange(0, max(1, len(simp) // 3))
            part = simp[start : start + max(10, int(len(simp) * self.rng.uniform(0.5, 0.9)))]
            return part, _traditional(part)
        fresh = self._fresh_paragraph()
        self.recent.append(fresh)
        return fresh

    def page(self) -> tuple[str, bool]:
        """One page's text, and whether it is in Traditional script."""
        rng, m = self.rng, self.m
        trad = rng.random() < TRADITIONAL_SHARE
        web = rng.random() < WEB_SHARE
        p = _Page(rng, trad)
        pick = 1 if trad else 0

        def script(text: str) -> str:  # the page's own script for the short fixed strings
            return _s2t().convert(text) if trad else text

        def title() -> str:
            i = rng.randrange(len(m.titles))
            return (m.titles, m.titles_trad)[pick][i]

        if web:
            p.lines += [script(x) for x in rng.sample(NAV, rng.randint(3, len(NAV)))]
            p.lines += ["", script("您的位置:首页>要闻 > 山东 >"), ""]
        for n in range(rng.randint(2, 7)):
            if rng.random() < 0.08:
                p.paragraph("## 魅力牡丹区", breakable=False)
            p.paragraph(title(), breakable=False)
            if web and n == 0:
                when = f"2022-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 19:41:46"
                p.lines += [script(f"来源:大众日报 {when}"), "A+A-", script("分享"), ""]
            names = rng.sample(m.names, 3)
            body = [self.body_paragraph()[pick] for _ in range(rng.randint(2, 8))]
            if rng.random() < 0.25:  # a photo: caption with its credit
                p.paragraph(body[0] + script(f"通讯员 {names[0]} {names[1]} 摄"))
                continue
            p.paragraph(
                script(f"本报讯(通讯员 {names[0]} {names[1]} 牡丹晚报全媒体记者 {names[2]})") + body[0]
            )
            for text in body[1:]:
                if trad and rng.random() < LOST_CHAR_SHARE:
                    text = re.sub(r"(.)\(([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+)\)", r"?\2)", text, count=1)
                p.paragraph(text)
        if web:
            footer = [f"编辑:{rng.choice(m.names)}", "相关推荐", "", "网友评论"]
            footer += ["关于我们 | 广告服务 | 版权声明 | 联系我们", "聊城新闻网 2006-2023 版权所有"]
            footer.append(f"鲁ICP备0908{rng.randint(1000, 9999)}号")
            p.lines += [script(x) for x in footer]
        return "\n".join(p.lines), trad


@dataclass
class Written:
    files: int
    bytes: int
    traditional_files: int


def write_corpus(out: Path, mb: float, seed: int = 8, first: int = 0) -> Written:
    """Pages into `out` until `mb` MB are written; names `NNNNNNN_<sha1 prefix>.txt` like the seeds."""
    out.mkdir(parents=True, exist_ok=True)
    writer = CorpusWriter(seed)
    target, total, files, trad = int(mb * (1 << 20)), 0, 0, 0
    while total < target:
        text, traditional = writer.page()
        data = text.encode("utf-8")
        name = f"{first + files:07d}_{hashlib.sha1(data).hexdigest()[:16]}.txt"
        (out / name).write_bytes(data)
        total += len(data)
        files += 1
        trad += traditional
    return Written(files, total, trad)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    written = write_corpus(args.out, args.mb, args.seed)
    print(
        f"{written.files} files ({written.traditional_files} Traditional), "
        f"{written.bytes / (1 << 20):.1f} MB in {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
