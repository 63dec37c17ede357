"""The load alone: a run's staged rows kept aside once, then loaded again and again.

    # once: a real flow run whose staging files are copied aside just before its load
    uv run python -m bench.load_replay keep --inbox bench-out/corpus-1024mb-seed8 --out bench-out/staged-1024mb
    # then, each in a fresh process: memory and time of `warehouse.db.load_staged`
    uv run python -m bench.load_replay replay --staged bench-out/staged-1024mb --memory-limit 256MB
    uv run python -m bench.load_replay replay --staged bench-out/staged-1024mb --memory-limit 256MB --key-indexes

The load (one transaction, every staged table) is where a run's flow process peaks; a
replay measures it without the 15 minutes of waves before it. `--key-indexes` gives the
growing tables the PRIMARY KEY constraints they had before (`UNIQUE_KEYS`, added to the
empty warehouse before the load), to compare.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psutil

from warehouse import db as warehouse
from warehouse.staging import file_relations


def keep(inbox: str, out: Path, flow_args: list[str]) -> None:
    """Run the flow (bench.flow_once) with its staging directory copied to `out` before the load."""
    load_staged = warehouse.load_staged

    def copy_then_load(
        db_path: str | Path, staged: Path, staged_files: dict[str, str], tables: tuple[str, ...] | None = None
    ) -> None:
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(Path(staged).parent, out)
        load_staged(db_path, staged, staged_files, tables)

    warehouse.load_staged = copy_then_load
    from bench import flow_once

    with tempfile.TemporaryDirectory() as tmp:
        flow_once.main(["--inbox", inbox, "--db", str(Path(tmp) / "news.duckdb"), *flow_args])


def replay(staged_dir: Path, memory_limit: str, key_indexes: bool) -> dict:
    """Load the kept staging files into an empty warehouse; peak memory added, seconds."""
    staged = next(staged_dir.glob("*.duckdb"))
    staged_files = file_relations(next(staged_dir.glob("*.files")))
    with tempfile.TemporaryDirectory(dir=staged_dir.parent) as tmp:
        db_path = Path(tmp) / "news.duckdb"
        with warehouse.connect(db_path) as con:
            warehouse.ensure_schema(con)
            if key_indexes:
                for table, key in warehouse.UNIQUE_KEYS.items():
                    con.execute(f"ALTER TABLE {table} ADD PRIMARY KEY ({', '.join(key)})")
        warehouse.LOAD_MEMORY_LIMIT = memory_limit
        before = psutil.Process().memory_info().rss
        wall, cpu = time.perf_counter(), time.process_time()
        error = None
        try:
            warehouse.load_staged(db_path, staged, staged_files)
        except Exception as exc:  # a commit that fails within the limit is the measurement
            error = str(exc).splitlines()[0]
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KB on Linux
    return {
        "memory_limit": memory_limit,
        "key_indexes": key_indexes,
        "added_mb": round((peak - before) / 2**20),
        "peak_rss_mb": round(peak / 2**20),
        "seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "error": error,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    keep_args = commands.add_parser("keep", help="run the flow and keep its staged rows")
    keep_args.add_argument("--inbox", required=True)
    keep_args.add_argument("--out", type=Path, required=True)
    keep_args.add_argument("--workers", default="2")
    replay_args = commands.add_parser("replay", help="load kept staged rows into an empty warehouse")
    replay_args.add_argument("--staged", type=Path, required=True)
    replay_args.add_argument("--memory-limit", default=warehouse.LOAD_MEMORY_LIMIT)
    replay_args.add_argument("--key-indexes", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "keep":
        keep(args.inbox, args.out, ["--runner", "process", "--workers", args.workers])
    else:
        print(json.dumps(replay(args.staged, args.memory_limit, args.key_indexes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
