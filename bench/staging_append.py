"""Memory and time of staging a run's waves (`warehouse.staging.Staging.append`), alone.

    uv run python -m bench.staging_append --source bench-out/runs/full.duckdb --memory-limit 64MB
    uv run python -m bench.staging_append --source bench-out/runs/full.duckdb --memory-limit 256MB

The rows of a loaded warehouse (documents, articles, paragraphs and the dedup index; the
100 MB load's, by default) are cut into `--waves` waves by document and appended one
after the other, as a run stages them, to a fresh staging file whose DuckDB connections
get `--memory-limit`. Prints one JSON line: the largest and the median rise of this
process's resident memory during one append (sampled every 2 ms, over the memory before
that append), and the seconds of all appends. Run each limit in its own process: what
the allocators keep after one run would blur the next.
"""

from __future__ import annotations

import flows  # noqa: F401 (first, as in a run: polars' allocator settings, flows/__init__.py)

# isort: split
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import polars as pl

from bench.stages import RssSampler
from warehouse import staging

TABLES = ("documents", "articles", "paragraphs", "dedup_keys", "dedup_bands", "dedup_anchors")
DEFAULT_SOURCE = Path("bench-out/runs/full.duckdb")


def waves_of_rows(source: Path, waves: int) -> list[dict[str, pl.DataFrame]]:
    """The source's rows in `waves` waves, each holding whole documents (by the row's doc)."""
    with duckdb.connect(str(source), read_only=True) as con:
        doc_wave = con.sql(
            f"SELECT doc_id, CAST(row_number() OVER (ORDER BY doc_id) % {waves} AS INTEGER) AS wave FROM documents"
        ).pl()
        frames = {table: con.sql(f"SELECT * FROM {table}").pl() for table in TABLES}
    paragraph_wave = (
        frames["paragraphs"].select("paragraph_id", "doc_id").join(doc_wave, on="doc_id").drop("doc_id")
    )
    keyed = {
        "documents": frames["documents"].join(doc_wave, on="doc_id"),
        "articles": frames["articles"].join(doc_wave, on="doc_id"),
        "paragraphs": frames["paragraphs"].join(doc_wave, on="doc_id"),
        "dedup_keys": frames["dedup_keys"].join(paragraph_wave, on="paragraph_id"),
    }
    # Bands and anchors name their key: each goes with its key's wave.
    key_wave = keyed["dedup_keys"].select("pkey", "wave")
    for table in ("dedup_bands", "dedup_anchors"):
        keyed[table] = frames[table].join(key_wave, on="pkey")
    return [{t: f.filter(pl.col("wave") == w).drop("wave") for t, f in keyed.items()} for w in range(waves)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="a loaded warehouse")
    parser.add_argument("--waves", type=int, default=13, help="13: the 100 MB load's 8 MB waves")
    parser.add_argument("--memory-limit", default=staging.WRITE_MEMORY_LIMIT)
    args = parser.parse_args(argv)
    if not args.source.exists():
        parser.error(f"no warehouse at {args.source}: run `uv run python -m bench.run --mb 100` first")

    staging.WRITE_MEMORY_LIMIT = args.memory_limit
    waves = waves_of_rows(args.source, args.waves)
    rises, seconds = [], 0.0
    with tempfile.TemporaryDirectory() as tmp, staging.Staging(Path(tmp) / "news.duckdb", "bench") as staged:
        for wave in waves:
            with RssSampler(every=0.002) as sampler:
                start = time.perf_counter()
                staged.append(wave)
                seconds += time.perf_counter() - start
            rises.append(sampler.peak_mb - sampler.start_mb)
    result = {
        "memory_limit": args.memory_limit,
        "waves": args.waves,
        "paragraphs": sum(w["paragraphs"].height for w in waves),
        "max_rise_mb": round(max(rises), 1),
        "median_rise_mb": round(sorted(rises)[len(rises) // 2], 1),
        "append_seconds": round(seconds, 2),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
