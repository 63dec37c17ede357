"""A generated dedup corpus with known truth, built from the seed pages' own words.

`generate(n, seed)` yields batches of paragraphs (a polars frame each: doc_id, path,
paragraph_id, text, family, kind, noise, topic). Kinds:

- ``original``: words drawn from one of `TOPICS` topic pools (60 words each, taken from the
  seeds with jieba), the shared general vocabulary, and function words, with punctuation.
  Paragraphs of one topic share most of their vocabulary: distinct but same-topic text.
- ``sibling``: a distinct paragraph on the same topic that reuses another original's
  sentence skeleton, 40 % of its words kept in place and the rest redrawn from the
  topic pool (the templated report of the next town over). Must NOT match.
- ``exact``: a copy of an original.
- ``near``: a copy with 1-10 % of its characters changed by OCR-like edits: 60 %
  substitutions (a look-alike character when one is known, else another character),
  20 % insertions, 20 % deletions.
- ``fragment``: a contiguous 30-90 % of an original, cut anywhere.

Copies are drawn from the last `WINDOW` originals (the
same press release reprinted within days), so copies land in the same or a later batch,
and, after the shuffle inside a batch, sometimes in a document before their original.
`family` is the truth: a copy has its original's family, every original/sibling its own.

    uv run python bench/dedup_corpus.py 2000                   # a sample and the kind counts
    uv run python bench/dedup_corpus.py 100000 --out DIR       # Parquet, one file per batch
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import re
import sys
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
TOPICS = 40
TOPIC_WORDS = 60
WINDOW = 50_000
SHARES = {"original": 0.68, "sibling": 0.07, "exact": 0.05, "near": 0.10, "fragment": 0.10}
FUNCTION_WORDS = [*list("的了在和是对为与及将把被也都就而"), "我们", "进一步", "以来", "目前", "同时", "通过"]
LOOK_ALIKE = [
    "己已巳",
    "未末",
    "人入八",
    "日曰目",
    "土士",
    "大太犬",
    "天夭",
    "干千于",
    "候侯",
    "拨拔",
    "准淮",
    "戌戍",
    "免兔",
    "历厉",
    "折拆",
    "壁璧",
    "辩辨辫",
    "茶荼",
    "治冶",
    "贝见",
    "王玉主",
]
DOC_PARAGRAPHS = 12


@functools.cache
def vocabulary() -> tuple[list[str], list[list[str]]]:
    """General Han words of the seeds, and TOPICS topic pools drawn from them."""
    import jieba
    import opencc

    text = opencc.OpenCC("t2s").convert(
        "".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))
    )
    words = sorted({w for w in jieba.lcut(text) if re.fullmatch(r"[\u4e00-\u9fff]{2,6}", w)})
    rng = np.random.default_rng(7)
    pools = [list(rng.choice(words, TOPIC_WORDS, replace=False)) for _ in range(TOPICS)]
    return words, pools


@functools.cache
def _look_alike() -> dict[str, str]:
    table = {}
    for group in LOOK_ALIKE:
        for ch in group:
            table[ch] = group
    return table


class _Writer:
    """Sentences of words: topic words, general words, function words, numbers, punctuation."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.words, self.pools = vocabulary()

    def skeleton(self, topic: int) -> list[str]:
        rng = self.rng
        target = int(np.clip(rng.lognormal(np.log(120), 0.5), 70, 600))
        out: list[str] = []
        size, clause = 0, 0
        while size < target:
            r = rng.random()
            if r < 0.5:
                w = self.pools[topic][rng.integers(TOPIC_WORDS)]
            elif r < 0.75:
                w = self.words[rng.integers(len(self.words))]
            elif r < 0.95:
                w = FUNCTION_WORDS[rng.integers(len(FUNCTION_WORDS))]
            else:
                w = f"{rng.integers(2, 3000)}{'万元户人亩个'[rng.integers(6)]}"
            out.append(w)
            size += len(w)
            clause += 1
            if clause >= rng.integers(4, 9):
                out.append("," if rng.random() < 0.7 else "。")
                clause = 0
        out.append("。")
        return out

    def sibling(self, words: list[str], topic: int) -> list[str]:
        """Same skeleton, 60 % of the words redrawn from the topic pool."""
        return [
            w if w in ",。" or self.rng.random() < 0.4 else self.pools[topic][self.rng.integers(TOPIC_WORDS)]
            for w in words
        ]

    def noisy(self, text: str, rate: float) -> str:
        rng, look = self.rng, _look_alike()
        chars = list(text)
        edits = max(1, round(rate * len(chars)))
        for pos in sorted(rng.choice(len(chars), size=min(edits, len(chars)), replace=False), reverse=True):
            r = rng.random()
            if r < 0.6:
                group = look.get(chars[pos])
                if group and len(group) > 1:
                    chars[pos] = next(c for c in rng.permutation(list(group)) if c != chars[pos])
                else:
                    w = self.words[rng.integers(len(self.words))]
                    chars[pos] = w[rng.integers(len(w))]
            elif r < 0.8:
                w = self.words[rng.integers(len(self.words))]
                chars.insert(pos, w[rng.integers(len(w))])
            else:
                del chars[pos]
        return "".join(chars)

    def fragment(self, text: str) -> str:
        share = self.rng.uniform(0.3, 0.9)
        length = max(1, round(share * len(text)))
        start = int(self.rng.integers(0, len(text) - length + 1))
        return text[start : start + length]


def generate(n: int, seed: int = 1, batch: int = 10_000) -> Iterator[pl.DataFrame]:
    """`n` paragraphs in batches of `batch` (documents of DOC_PARAGRAPHS paragraphs each)."""
    rng = np.random.default_rng(seed)
    writer = _Writer(rng)
    recent: deque[tuple[int, str, list[str], int]] = deque(maxlen=WINDOW)  # family, text, words, topic
    kinds, shares = list(SHARES), np.array(list(SHARES.values()))
    family_counter = 0
    doc_counter = 0
    for start in range(0, n, batch):
        size = min(batch, n - start)
        rows = []
        for kind in rng.choice(kinds, size=size, p=shares / shares.sum()):
            if kind in ("original", "sibling") or not recent:
                topic = int(rng.integers(TOPICS))
                if kind == "sibling" and recent:
                    _, _, base, topic = recent[int(rng.integers(len(recent)))]
                    words = writer.sibling(base, topic)
                else:
                    kind, words = "original", writer.skeleton(topic)
                text = "".join(words)
                family_counter += 1
                recent.append((family_counter, text, words, topic))
                rows.append((text, family_counter, kind, None, topic))
                continue
            family, source, _, topic = recent[int(rng.integers(len(recent)))]
            if kind == "exact":
                text, noise = source, 0.0
            elif kind == "near":
                noise = float(rng.uniform(0.01, 0.10))
                text = writer.noisy(source, noise)
            else:
                text, noise = writer.fragment(source), None
            rows.append((text, family, kind, noise, topic))
        order = rng.permutation(len(rows))
        out = []
        for i, idx in enumerate(order):
            if i % DOC_PARAGRAPHS == 0:
                doc_counter += 1
                doc_id = hashlib.sha256(f"doc{seed}-{doc_counter}".encode()).hexdigest()
            text, family, kind, noise, topic = rows[idx]
            out.append(
                {
                    "doc_id": doc_id,
                    "path": f"d{doc_counter:08d}.txt",
                    "paragraph_id": f"{doc_id[:16]}-a000-p{i % DOC_PARAGRAPHS:03d}",
                    "text": text,
                    "family": family,
                    "kind": kind,
                    "noise": noise,
                    "topic": topic,
                }
            )
        yield pl.DataFrame(out, schema_overrides={"noise": pl.Float64})


def write(n: int, out: Path, seed: int = 1, batch: int = 10_000) -> list[Path]:
    """Write the corpus as one Parquet file per batch (so a benchmark can stream it)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, frame in enumerate(generate(n, seed=seed, batch=batch)):
        paths.append(out / f"batch_{i:05d}.parquet")
        frame.write_parquet(paths[-1])
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--out", type=Path, help="write Parquet batches here instead of printing a sample")
    args = parser.parse_args()
    if args.out:
        write(args.n, args.out, args.seed, args.batch)
        sys.exit(0)
    frame = pl.concat(list(generate(args.n, seed=args.seed, batch=args.batch)))
    print(frame.group_by("kind").len().sort("kind"))
    with pl.Config(fmt_str_lengths=80, tbl_rows=12):
        print(frame.select("path", "kind", "family", "text").head(12))
