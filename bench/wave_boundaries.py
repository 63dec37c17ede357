"""Does dedup depend on where a run's waves begin? One inbox loaded twice, compared.

    uv run python -m bench.wave_boundaries --inbox bench-out/corpus-100mb-seed8

Loads the inbox twice with `bench.flow_once` (the real flow, process runner) into fresh
warehouses: once with the default chunk and wave sizes, once with `NEWSETL_CHUNK_MB` and
`NEWSETL_WAVE_MB` set to `--chunk-mb` / `--wave-mb`, so the waves begin at other files.
Were a run in waves exactly one batch, every paragraph would end with the same
`dup_status`, `dup_of` and `similarity` in both. Prints the counts per status and the
paragraphs that differ; exits 1 when any does.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import duckdb

from bench.run import flow_run

COMPARED = ("dup_status", "dup_of", "similarity")


def differing(first: Path, second: Path) -> tuple[dict[str, list[tuple]], list[tuple]]:
    """Counts per status in each warehouse, and the paragraphs whose dedup outcome differs."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{first}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{second}' AS b (READ_ONLY)")
        counts = {
            name: con.sql(
                f"SELECT dup_status, count(*) FROM {name}.paragraphs GROUP BY 1 ORDER BY 1"
            ).fetchall()
            for name in ("a", "b")
        }
        differs = " OR ".join(f"x.{c} IS DISTINCT FROM y.{c}" for c in COMPARED)
        rows = con.sql(
            f"""
            SELECT paragraph_id, {", ".join(f"x.{c}, y.{c}" for c in COMPARED)}, x.chars
            FROM a.paragraphs x FULL JOIN b.paragraphs y USING (paragraph_id)
            WHERE x.paragraph_id IS NULL OR y.paragraph_id IS NULL OR {differs}
            ORDER BY paragraph_id
            """
        ).fetchall()
    finally:
        con.close()
    return counts, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbox", type=Path, required=True)
    parser.add_argument("--chunk-mb", default="2", help="the second load's NEWSETL_CHUNK_MB (default 2)")
    parser.add_argument("--wave-mb", default="8", help="the second load's NEWSETL_WAVE_MB (default 8)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    other = {"NEWSETL_CHUNK_MB": args.chunk_mb, "NEWSETL_WAVE_MB": args.wave_mb}
    with tempfile.TemporaryDirectory(prefix="wave-boundaries-") as work:
        out = Path(work)
        log = out / "flow-runs.log"
        default = flow_run(args.inbox, out / "default.duckdb", args.workers, log)
        shifted = flow_run(args.inbox, out / "shifted.duckdb", args.workers, log, env=other)
        counts, rows = differing(out / "default.duckdb", out / "shifted.duckdb")
    print(f"{args.inbox}: default sizes {default.flow_seconds:.1f} s; {other} {shifted.flow_seconds:.1f} s")
    for name, label in (("a", "default"), ("b", "shifted")):
        print(f"  {label}: " + ", ".join(f"{status} {n}" for status, n in counts[name]))
    print(f"paragraphs whose {', '.join(COMPARED)} differ: {len(rows)}")
    for row in rows:
        pid, status_a, status_b, of_a, of_b, sim_a, sim_b, chars = row
        print(f"  {pid} ({chars} chars): {status_a} of {of_a} ({sim_a}) | {status_b} of {of_b} ({sim_b})")
    return 1 if rows else 0


if __name__ == "__main__":
    sys.exit(main())
