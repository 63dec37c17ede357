"""Peak memory of one tokenize task, as a process-pool worker runs it, on one part of texts.

    uv run python -m bench.tokenize_memory                       # a 1 MB part of the 10 MB corpus
    uv run python -m bench.tokenize_memory --part-mb 4 --inbox DIR

Of a worker's two tasks, tokenize raises its memory the most: the texts of one part
(`flows.tasks.split_by_article`, a quarter of `NEWSETL_CHUNK_MB`: 1 MB) cut into words, their
keywords, and the contracts. This runs `flows.text_work.cut_words` on the first
`--part-mb` of the texts `bench.tokenize_bench` prepares (unique paragraphs and
headings), in a fresh process with jieba and the tables it uses loaded first, and
prints one JSON line: the resident memory before, the peak during the task (sampled
every 2 ms) and the rise between them, and the task's CPU seconds.
"""

from __future__ import annotations

import flows  # noqa: F401 (first, as in a run: polars' allocator settings, flows/__init__.py)

# isort: split
import argparse
import gc
import json
import sys
import time
from pathlib import Path

import polars as pl

from bench.stages import RssSampler
from bench.tokenize_bench import DEFAULT_INBOX, MAIN_INBOX, cached_texts
from flows import text_work
from flows.steps import tokenize as tokenize_step


def first_megabytes(rows: pl.DataFrame, mb: float) -> pl.DataFrame:
    """The first rows holding about `mb` MB of UTF-8 text, as their own buffers."""
    within = rows["text"].str.len_bytes().cum_sum() <= mb * 2**20
    return pl.DataFrame(rows.filter(within).to_dicts(), schema=rows.schema)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbox", type=Path, default=DEFAULT_INBOX if DEFAULT_INBOX.exists() else MAIN_INBOX)
    parser.add_argument("--part-mb", type=float, default=1.0)
    args = parser.parse_args(argv)

    part = first_megabytes(cached_texts(args.inbox), args.part_mb)
    tokenize_step.regional_tokenizer()  # what a worker has loaded before its first part
    tokenize_step._word_class()
    tokenize_step._idf()
    gc.collect()
    with RssSampler(every=0.002) as sampler:
        cpu = time.process_time()
        words, _seconds = text_work.cut_words(part)
        cpu = time.process_time() - cpu
    result = {
        "part_mb": round(part["text"].str.len_bytes().sum() / 2**20, 2),
        "texts": part.height,
        "rss_before_mb": round(sampler.start_mb, 1),
        "peak_mb": round(sampler.peak_mb, 1),
        "rise_mb": round(sampler.peak_mb - sampler.start_mb, 1),
        "task_cpu_seconds": round(cpu, 2),
        "rows": {table: frame.height for table, frame in words.items()},
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
