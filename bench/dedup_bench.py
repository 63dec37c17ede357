"""Dedup benchmark on the generated corpus (bench/dedup_corpus.py): calibration, quality, scaling.

    uv run python bench/dedup_bench.py calibrate            # shingle size / thresholds
    uv run python bench/dedup_bench.py quality [N]          # pairwise precision / recall
    uv run python bench/dedup_bench.py scale 10000 100000   # time per paragraph, memory

`quality` and `scale` run the real stage (`mark_duplicates`) run after run against a real
DuckDB warehouse through the persisted index (`warehouse.dedup_index`), loading each
batch with `warehouse.db.load_batch`, as `ingest_news` does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from itertools import combinations
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.dedup_corpus import SEEDS, generate
from flows.steps import dedup, minhash
from warehouse import db
from warehouse.dedup_index import history_lookup

BATCH = 10_000


def _paragraph_rows(batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    paragraphs = batch.select(
        "paragraph_id",
        (pl.col("paragraph_id").str.slice(0, 21)).alias("article_id"),
        "doc_id",
        pl.col("paragraph_id").str.slice(23).cast(pl.Int32).alias("seq"),
        "text",
        pl.col("text").alias("text_raw"),
        pl.col("text").str.len_chars().cast(pl.Int32).alias("chars"),
    )
    return paragraphs, batch.select("doc_id", "path").unique()


class PeakRss:
    """Highest resident set size (MB) seen while the block runs, sampled every 5 ms.

    ru_maxrss only ever grows over the whole process; this isolates one phase of one run.
    """

    def __enter__(self) -> PeakRss:
        self.peak, self._stop = _rss_mb(), threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_batches(batches, db_path: Path, keep_truth: bool = True) -> tuple[pl.DataFrame | None, list[dict]]:
    """Dedup + load every batch in turn; the truth columns of the rows (if kept) and timings."""
    marked, timings = [], []
    for batch in batches:
        paragraphs, documents = _paragraph_rows(batch)
        t0 = time.perf_counter()
        with PeakRss() as dedup_rss:
            result = dedup.mark_duplicates(paragraphs, documents, history_lookup(db_path))
        t1 = time.perf_counter()
        tables = {"paragraphs": result.paragraphs}
        tables.update(
            dedup.loadable_index({**result.index, "dedup_updates": result.history_updates}, result.paragraphs)
        )
        with PeakRss() as load_rss:
            db.load_batch(db_path, tables)
        t2 = time.perf_counter()
        timings.append(
            {
                "paragraphs": batch.height,
                "dedup_s": t1 - t0,
                "load_s": t2 - t1,
                "dedup_rss": dedup_rss.peak,
                "load_rss": load_rss.peak,
            }
        )
        if keep_truth:
            marked.append(batch.select("paragraph_id", "family", "kind"))
    return (pl.concat(marked) if marked else None), timings


def quality(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.duckdb"
        truth, _ = run_batches(generate(n, seed=11, batch=n // 4), db_path)
        assert truth is not None
        with db.connect(db_path, read_only=True) as con:
            final = con.sql(
                "SELECT paragraph_id, dup_status, dup_of, coalesce(dup_of, paragraph_id) AS root FROM paragraphs"
            ).pl()
    rows = truth.join(final, on="paragraph_id")
    family = dict(zip(rows["paragraph_id"], rows["family"], strict=True))
    dups = rows.filter(pl.col("dup_of").is_not_null())
    correct = sum(family[a] == family[b] for a, b in zip(dups["paragraph_id"], dups["dup_of"], strict=True))
    print(f"corpus {n} paragraphs in 4 runs; marked duplicates {dups.height}")
    print(f"pairwise precision (marked pair in one true family): {correct / max(dups.height, 1):.4f}")
    originals = rows.filter(pl.col("kind").is_in(["original", "sibling"])).select(
        "family", pl.col("root").alias("o_root")
    )
    copies = rows.filter(pl.col("kind").is_in(["exact", "near", "fragment"])).join(originals, on="family")
    recall = copies.group_by("kind").agg(
        pl.len().alias("pairs"), (pl.col("root") == pl.col("o_root")).mean().alias("recall")
    )
    print(recall.sort("kind"))
    statuses = rows.group_by("kind", "dup_status").len().sort("kind", "dup_status")
    with pl.Config(tbl_rows=30):
        print(statuses)


def scale(sizes: list[int]) -> None:
    """Per size: the corpus is written by a separate process, then streamed run by run.

    Peak RSS is this process's (sampled during the dedup and the load of each run), not
    the generator's.
    """
    print(f"batches of {BATCH} paragraphs (one run each) against the growing warehouse")
    print(
        "| paragraphs | runs | dedup s | dedup us/para | first 10 runs us/para | last 10 runs us/para "
        "| load us/para | dedup peak RSS MB, run 1 | max over runs | load peak RSS MB, max | index rows "
        "| warehouse MB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp) / "corpus"
            subprocess.run(
                [
                    sys.executable,
                    str(Path(__file__).with_name("dedup_corpus.py")),
                    str(n),
                    "--seed",
                    "5",
                    "--batch",
                    str(BATCH),
                    "--out",
                    str(corpus),
                ],
                check=True,
                capture_output=True,
            )
            db_path = Path(tmp) / "bench.duckdb"
            files = sorted(corpus.glob("*.parquet"))
            # Warm up once (OpenCC table, regexes, polars): one-off costs are not per paragraph.
            dedup.mark_duplicates(*_paragraph_rows(pl.read_parquet(files[0]).head(50)))
            batches = (pl.read_parquet(p) for p in files)
            _, timings = run_batches(batches, db_path, keep_truth=False)
            with db.connect(db_path, read_only=True) as con:
                index_rows = sum(
                    con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                    for t in ("dedup_keys", "dedup_bands", "dedup_anchors")
                )
            size_mb = db_path.stat().st_size / 2**20
        dedup_s = sum(t["dedup_s"] for t in timings)
        load_s = sum(t["load_s"] for t in timings)
        first, last = _per_paragraph(timings[:10]), _per_paragraph(timings[-10:])
        print(
            f"| {n} | {len(timings)} | {dedup_s:.1f} | {dedup_s / n * 1e6:.0f} | {first:.0f} | {last:.0f} | "
            f"{load_s / n * 1e6:.0f} | {timings[0]['dedup_rss']:.0f} | "
            f"{max(t['dedup_rss'] for t in timings):.0f} | {max(t['load_rss'] for t in timings):.0f} | "
            f"{index_rows} | {size_mb:.0f} |",
            flush=True,
        )


def _per_paragraph(timings: list[dict]) -> float:
    return sum(t["dedup_s"] for t in timings) / sum(t["paragraphs"] for t in timings) * 1e6


def calibrate(n: int = 8000) -> None:
    """Similarity of true copies vs distinct same-topic paragraphs, per shingle size."""
    corpus = pl.concat(list(generate(n, seed=3, batch=n)))
    orig = corpus.filter(pl.col("kind").is_in(["original", "sibling"]))
    text_of = dict(zip(orig["family"], orig["text"], strict=True))
    key = {f: dedup.norm_key(t) for f, t in text_of.items()}
    near = corpus.filter(pl.col("kind") == "near")
    frags = corpus.filter(pl.col("kind") == "fragment")
    siblings = corpus.filter(pl.col("kind") == "sibling")
    rng = np.random.default_rng(0)
    by_topic = orig.group_by("topic").agg("family")
    same_topic = []
    for fams in by_topic["family"]:
        fams = list(fams)
        pairs = list(combinations(fams[:60], 2))
        same_topic += [pairs[i] for i in rng.permutation(len(pairs))[:300]]
    print(f"{near.height} near copies, {frags.height} fragments, {len(same_topic)} same-topic distinct pairs")
    print(
        "| k | near J min | near J p1 (7-10% edits) | fragment containment p1 | distinct J max | distinct J p99.9 | sibling J max | distinct containment max (>=20 chars) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for k in (2, 3, 4):

        def sh(s: str, k: int = k) -> frozenset[str]:
            return minhash.shingle_set(s, k)

        jn = [
            minhash.jaccard(sh(dedup.norm_key(t)), sh(key[f]))
            for t, f in zip(near["text"], near["family"], strict=True)
        ]
        hard = [
            minhash.jaccard(sh(dedup.norm_key(t)), sh(key[f]))
            for t, f, r in zip(near["text"], near["family"], near["noise"], strict=True)
            if r >= 0.07
        ]
        jc = [
            minhash.containment(sh(dedup.norm_key(t)), sh(key[f]))
            for t, f in zip(frags["text"], frags["family"], strict=True)
        ]
        jd = [minhash.jaccard(sh(key[a]), sh(key[b])) for a, b in same_topic]
        # A distinct "fragment": a piece of one paragraph measured against another of its topic.
        cd = []
        for a, b in same_topic[:3000]:
            piece = key[a][: max(20, len(key[a]) // 3)]
            cd.append(minhash.containment(sh(piece), sh(key[b])))
        base = {f: key[f] for f in key}
        js = []
        for t, f in zip(siblings["text"], siblings["family"], strict=True):
            ks = sh(dedup.norm_key(t))
            js.append(max(minhash.jaccard(ks, sh(base[g])) for g in _topic_families(orig, f)[:200] if g != f))
        print(
            f"| {k} | {min(jn):.3f} | {np.percentile(hard, 1):.3f} | {np.percentile(jc, 1):.3f} | "
            f"{max(jd):.3f} | {np.percentile(jd, 99.9):.3f} | {max(js):.3f} | {max(cd):.3f} |"
        )
    print("\nSeed pages, raw blank-line blocks of >= 20 key chars (bylines still inside: the")
    print("pipeline compares paragraphs with bylines moved to the article): highest Jaccard pairs")
    blocks = [
        dedup.norm_key(b)
        for page in sorted(SEEDS.glob("*.txt"))
        for b in page.read_text(encoding="utf-8").split("\n\n")
        if len(dedup.norm_key(b)) >= 20
    ]
    for k in (2, 3, 4):
        sets = [minhash.shingle_set(b, k) for b in blocks]
        top = sorted((minhash.jaccard(a, b) for a, b in combinations(sets, 2)), reverse=True)[:5]
        print(f"k={k}: " + ", ".join(f"{j:.3f}" for j in top))
    print("\nLSH: probability that a pair of Jaccard J becomes a candidate, bands x rows")
    print("| J | " + " | ".join(f"{b}x{r}" for b, r in ((16, 4), (32, 4), (20, 5), (16, 5))) + " |")
    for j in (0.3, 0.4, 0.5, 0.55, 0.6, 0.7, 0.8):
        cells = " | ".join(f"{1 - (1 - j**r) ** b:.3f}" for b, r in ((16, 4), (32, 4), (20, 5), (16, 5)))
        print(f"| {j} | {cells} |")


def _topic_families(orig: pl.DataFrame, family: int) -> list[int]:
    topic = orig.filter(pl.col("family") == family)["topic"][0]
    return orig.filter(pl.col("topic") == topic)["family"].to_list()


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "quality"
    args = [int(a) for a in sys.argv[2:]]
    if mode == "calibrate":
        calibrate(*args)
    elif mode == "quality":
        quality(*(args or [20_000]))
    elif mode == "scale":
        scale(args or [10_000, 100_000])
    else:
        raise SystemExit(f"unknown mode {mode}: calibrate, quality or scale")
