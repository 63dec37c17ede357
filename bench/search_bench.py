"""Tokenize, keywords and BM25 search on a generated corpus: what each costs per MB.

    uv run python -m bench.search_bench 10000      # paragraphs (about 1.2 MB of text)

Text: the unique paragraphs (originals and siblings) of bench/dedup_corpus.py, grouped
eight to an article. Measures, on one core:
- `tokenize_rows` (jieba with the user dictionary), MB/s;
- `article_keywords` from those words, against what `jieba.analyse.extract_tags` takes to
  cut every article again (why keywords reuse the words);
- `search_articles` (BM25 in SQL over `tokens`) for a few queries, median of 5 runs.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import jieba.analyse
import polars as pl

from bench import machine
from bench.dedup_corpus import generate
from flows.steps.tokenize import article_keywords, regional_tokenizer, segment_words, tokenize_rows
from warehouse.db import ensure_schema

PARAGRAPHS_PER_ARTICLE = 8
QUERIES = ("马拉松", "医保", "吴店镇 党群", "高质量发展 项目建设")


def corpus(n: int) -> pl.DataFrame:
    paragraphs = pl.concat(list(generate(n))).filter(pl.col("kind").is_in(["original", "sibling"]))
    return paragraphs.with_row_index("i").select(
        pl.format("p{}", "i").alias("paragraph_id"),
        pl.format("a{}", pl.col("i") // PARAGRAPHS_PER_ARTICLE).alias("article_id"),
        "text",
    )


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def main(n: int) -> None:
    print(machine.describe())
    rows = corpus(n)
    mb = rows["text"].str.len_bytes().sum() / 1e6
    regional_tokenizer()  # dictionary load (~0.5 s) is not part of the throughput
    print(f"corpus: {rows.height} paragraphs, {rows['article_id'].n_unique()} articles, {mb:.2f} MB UTF-8")

    tokens, cut_s = timed(tokenize_rows, rows)
    print(f"tokenize_rows: {cut_s:.2f} s, {mb / cut_s:.2f} MB/s, {tokens.height} words")

    keywords, kw_s = timed(article_keywords, tokens)
    print(f"article_keywords from the words: {kw_s:.3f} s ({keywords.height} rows)")

    extractor = jieba.analyse.TFIDF()
    extractor.tokenizer = regional_tokenizer()
    articles = rows.group_by("article_id").agg(pl.col("text").str.join(""))["text"].to_list()
    _, recut_s = timed(lambda: [extractor.extract_tags(t, topK=10) for t in articles])
    print(f"jieba.analyse.extract_tags (cuts again): {recut_s:.2f} s = {recut_s / cut_s:.0%} of tokenize")

    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "bench.duckdb"))
        ensure_schema(con)
        arrow = tokens.to_arrow()  # noqa: F841 (used by SQL)
        con.execute("INSERT INTO tokens SELECT * FROM arrow")
        for query in QUERIES:
            words = segment_words(query)
            runs = []
            for _ in range(5):
                start = time.perf_counter()
                hits = con.execute("SELECT * FROM search_articles(?::VARCHAR[]) LIMIT 10", [words]).fetchall()
                runs.append(time.perf_counter() - start)
            print(f"search {query!r} -> {words}: {statistics.median(runs) * 1000:.0f} ms, {len(hits)} hits")
        con.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
