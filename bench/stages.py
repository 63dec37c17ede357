"""Where a load spends its time: every stage of the flow, one after the other, without Prefect.

    uv run python -m bench.stages --inbox bench-out/corpus-5mb-seed8            # seconds and MB/s per stage
    uv run python -m bench.stages --inbox bench-out/corpus-5mb-seed8 --profile clean   # hot functions

Calls the same functions the flow's tasks call (`task.fn`), in one process and one chunk,
on an empty warehouse, so each stage's own cost shows without orchestration or
parallelism. `--profile STAGE` prints cProfile's top functions of that stage. `--db FILE`
deduplicates and validates against that warehouse instead (its history lookups only
read it), e.g. one wave against the 1 GB load's warehouse.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from flows import tasks, text_work
from flows.steps import discover
from warehouse.staging import Staging

STAGES = ("decode", "clean", "repair", "segment", "to_batch", "dedup", "tokenize", "validate")


class RssSampler:
    """`with sampler:` records this process's peak resident memory over the block."""

    def __init__(self, every: float = 0.02) -> None:
        self.every = every
        self.start_mb = 0.0  # resident memory as the block began
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> RssSampler:
        self.start_mb = self.peak_mb = psutil.Process().memory_info().rss / 2**20
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self._measure()

    def _measure(self) -> None:
        self.peak_mb = max(self.peak_mb, psutil.Process().memory_info().rss / 2**20)

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            self._measure()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbox", type=Path, required=True)
    parser.add_argument("--profile", choices=STAGES, default=None)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--db", type=Path, default=None, help="a loaded warehouse to deduplicate against")
    args = parser.parse_args(argv)

    files = discover.list_inbox(args.inbox)
    for f in files:
        f.doc_id = discover.sha256_file(Path(f.abs_path))
    mb = sum(f.size_bytes for f in files) / 2**20
    (chunk,) = tasks.chunk_files(files, 1 << 40)
    db = str(args.db or Path(tempfile.mkdtemp()) / "empty.duckdb")
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}  # less disturbed than wall time on a shared machine
    rss: dict[str, float] = {}  # this process's resident memory after the stage, MB
    peak: dict[str, float] = {}  # ... and its highest during the stage (sampled every 20 ms)
    sampler = RssSampler()

    def stage(name: str, fn: Callable[..., Any], *fn_args: Any) -> Any:
        profiler = cProfile.Profile() if args.profile == name else None
        start, cpu_start = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        with sampler:
            result = fn(*fn_args)
        peak[name] = sampler.peak_mb
        if profiler:
            profiler.disable()
        seconds[name] = time.perf_counter() - start
        cpu[name] = time.process_time() - cpu_start
        rss[name] = psutil.Process().memory_info().rss / 2**20
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
            print(out.getvalue())
        return result

    # The `restore` task's four stages, one at a time.
    chunk = stage("decode", chunk.timed, "decode", text_work.decode_doc)
    chunk = stage("clean", chunk.timed, "clean", text_work.clean_doc)
    chunk = stage("repair", chunk.timed, "repair", text_work.repair_doc)
    chunk = stage("segment", chunk.timed, "segment", text_work.segment_doc)
    batch = stage("to_batch", lambda c: tasks.to_batch([text_work.Restored(c)]), chunk)
    with Staging(db, "bench") as staging:
        batch = stage("dedup", tasks.dedup.fn, batch, db, staging)
        texts = tasks.texts_to_tokenize(batch)
        stage("tokenize", text_work.cut_words, texts)
        stage("validate", tasks.validate.fn, batch, db, staging)

    text_mb = sum(len(t.encode("utf-8")) for t in texts["text"].to_list()) / 2**20
    print(
        f"{len(files)} files, {mb:.1f} MB; {batch.paragraphs.height} paragraphs; {text_mb:.1f} MB to segment"
    )
    print(
        f"{'stage':<10} {'wall s':>8} {'CPU s':>8} {'MB/s':>8} {'RSS MB':>8} {'peak MB':>8}"
        "  (MB/s: input MB per CPU second; RSS after the stage, peak during it)"
    )
    for name, s in seconds.items():
        speed = mb / cpu[name] if cpu[name] else float("inf")
        print(f"{name:<10} {s:8.2f} {cpu[name]:8.2f} {speed:8.2f} {rss[name]:8.0f} {peak[name]:8.0f}")
    total = sum(cpu.values())
    print(f"{'total':<10} {sum(seconds.values()):8.2f} {total:8.2f} {mb / total:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
