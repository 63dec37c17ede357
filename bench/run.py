"""The performance benchmark of issue 8: the real flow on a generated corpus, against the jieba bound.

    uv run python -m bench.run --mb 100              # the documented run (docs/performance.md)
    uv run python -m bench.run --mb 5 --small-mb 2   # a quick look while developing
    uv run python -m bench.run --mb 100 --big-mb 1024  # adds the 1 GB memory run

Every flow run is the real `ingest_news` (Prefect, process task runner, DuckDB) in a fresh
process (`bench.flow_once`), so its peak memory is its own. Scenarios:

1. full load of the `--mb` corpus with `--workers` workers: MB/s, seconds per stage,
   peak memory, rows per table;
2. the jieba bound: the unique paragraphs and titles the warehouse now holds (the text
   the flow had to segment), cut by jieba in this process's pool of `--workers` worker
   processes (dictionary loaded before the clock starts); ratio = bound time / flow time;
   also the pipeline's own segmenter (jieba's words but for near-ties, faster:
   flows/steps/lexicon.py) alone on that text, and the ratio to it;
3. the same load with 1 worker: the parallel speed-up;
4. a run with no new files over the `--small-mb` and the `--mb` warehouse;
5. one new ~100 KB file into the `--mb` warehouse and into an empty one;
6. 1,000 small files, one worker: time in the stage functions vs. the rest (orchestration);
7. with `--big-mb`: a load of that size, for its peak memory.

Corpora are generated once into `--out` (default bench-out/, ignored by git) and reused.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from bench import machine
from bench.corpus import CorpusWriter, write_corpus

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {
    "ratio": 0.75,  # pipeline throughput / jieba bound
    "speedup": 1.7,  # 2 workers over 1
    "nothing_new_s": 3.0,  # flow seconds of a run with no new files
    "one_file_factor": 2.0,  # one new file into a full warehouse vs an empty one
    "big_peak_mb": 1024.0,  # peak memory of a 1 GB load
}


# --- corpora --------------------------------------------------------------------------


def corpus(out: Path, mb: float, seed: int) -> Path:
    """The generated corpus of `mb` MB (made once; a marker file says it is complete)."""
    path = out / f"corpus-{mb:g}mb-seed{seed}"
    marker = path / ".complete"
    if not marker.exists():
        shutil.rmtree(path, ignore_errors=True)
        started = time.perf_counter()
        written = write_corpus(path, mb, seed)
        marker.write_text(json.dumps(written.__dict__))
        print(
            f"  generated {path.name}: {written.files} files ({written.traditional_files} Traditional) "
            f"in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    return path


def one_file(path: Path, kb: float, seed: int) -> Path:
    """A single page file of about `kb` KB (pages of another seed, one after another)."""
    writer = CorpusWriter(seed)
    parts, size = [], 0
    while size < kb * 1024:
        text, _ = writer.page()
        parts.append(text)
        size += len(text.encode("utf-8"))
    path.write_text("\n\n".join(parts), encoding="utf-8")
    return path


def linked_inbox(target: Path, source: Path, extra: list[Path]) -> Path:
    """An inbox with the files of `source` (hard links: same bytes, size and mtime) plus `extra`."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for f in source.iterdir():
        if not f.name.startswith("."):
            os.link(f, target / f.name)
    for f in extra:
        shutil.copy2(f, target / f.name)
    return target


def inbox_mb(inbox: Path) -> float:
    return sum(f.stat().st_size for f in inbox.iterdir() if not f.name.startswith(".")) / 2**20


# --- one flow run ---------------------------------------------------------------------


@dataclass
class FlowRun:
    flow_seconds: float
    peak_rss_mb: float
    peak_main_rss_mb: float
    peak_split_mb: tuple[float, float]  # flow process, workers: at the moment of the peak
    peak_pss_mb: float  # the same processes, each shared page counted once
    summary: dict
    runner: str
    cpu_flow_process: float
    cpu_workers: float
    cpu_api_server: float

    @property
    def stages(self) -> dict[str, float]:
        return self.summary.get("stage_seconds") or {}

    @property
    def cores_busy(self) -> float:
        """How many cores the run kept busy on average: its processes' CPU over its time."""
        return (self.cpu_flow_process + self.cpu_workers + self.cpu_api_server) / self.flow_seconds


def flow_run(
    inbox: Path,
    db: Path,
    workers: int,
    log: Path,
    runner: str = "process",
    env: dict[str, str] | None = None,
    cores: int | None = None,
) -> FlowRun:
    command = [sys.executable, "-m", "bench.flow_once", "--inbox", str(inbox), "--db", str(db)]
    command += ["--runner", runner, "--workers", str(workers)]
    command += ["--cores", str(cores)] if cores else []
    with log.open("ab") as err:
        proc = subprocess.run(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
            check=False,
            env={**os.environ, **(env or {})},
        )
    if proc.returncode != 0:
        raise SystemExit(f"flow run failed ({' '.join(command)}); see {log}")
    result = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    return FlowRun(
        result["flow_seconds"],
        result["peak_rss_mb"],
        result["peak_main_rss_mb"],
        tuple(result["peak_split_mb"]),
        result["peak_pss_mb"],
        result["summary"],
        result["runner"],
        result["cpu_seconds_flow_process"],
        result["cpu_seconds_workers"],
        result["cpu_seconds_api_server"],
    )


def peak_parts(run: FlowRun) -> str:
    flow, workers = run.peak_split_mb
    return (
        f"flow process + workers ({flow:.0f} + {workers:.0f} MB at the peak; "
        f"the flow process's own peak {run.peak_main_rss_mb:.0f} MB; shared pages counted once "
        f"(PSS) {run.peak_pss_mb:.0f} MB)"
    )


def available_mb() -> float:
    import psutil

    return psutil.virtual_memory().available / 2**20


def table_rows(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY 1"
            ).fetchall()
        ]
        return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        con.close()


def unique_texts(db: Path) -> list[str]:
    """What tokenize had to segment: the unique paragraphs and the article titles."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT text FROM paragraphs WHERE dup_status = 'unique' "
            "UNION ALL SELECT title FROM articles WHERE title IS NOT NULL"
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


# --- the jieba bound ------------------------------------------------------------------


def _cutter(which: str) -> Callable[[str], list[str]]:
    """`jieba`: jieba itself with the user dictionary; `segmenter`: what tokenize cuts with
    (jieba's words but for near-ties, flows/steps/lexicon.py)."""
    from flows.steps.tokenize import regional_tokenizer, segmenter

    return (regional_tokenizer() if which == "jieba" else segmenter()).lcut


def _warm(which: str) -> int:
    _cutter(which)("菏泽市牡丹区")  # loads the dictionaries
    return os.getpid()


def _cut(which: str, texts: list[str]) -> int:
    """`lcut` alone, as tokenize calls it, nothing done with the words."""
    lcut = _cutter(which)
    return sum(len(lcut(t)) for t in texts)


def cut_bound(texts: list[str], workers: int, which: str = "jieba") -> float:
    """Seconds `which` takes to cut `texts` on `workers` processes, dictionaries already loaded."""
    parts = workers * 16
    slices: list[list[str]] = [[] for _ in range(parts)]
    for i, text in enumerate(texts):
        slices[i % parts].append(text)
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        while len(set(pool.map(_warm, [which] * (workers * 4), chunksize=1))) < workers:
            pass  # every worker has loaded the dictionaries
        start = time.perf_counter()
        pool.starmap(_cut, [(which, part) for part in slices], chunksize=1)
        return time.perf_counter() - start


# --- the report -----------------------------------------------------------------------


def mark(ok: bool) -> str:
    return "meets target" if ok else "BELOW TARGET"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100, help="size of the main corpus (default 100)")
    parser.add_argument("--small-mb", type=float, default=10, help="the smaller warehouse (default 10)")
    parser.add_argument("--big-mb", type=float, default=0, help="also load a corpus this big for peak memory")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--small-files", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out")
    parser.add_argument("--skip-speedup", action="store_true", help="skip the 1-worker load")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    runs = out / "runs"
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir(parents=True)
    log = runs / "flow-runs.log"
    w = args.workers
    lines: list[str] = []
    results: dict[str, object] = {"machine": machine.describe(), "python": machine.bytecode_state()}

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    print(f"machine: {results['machine']}\n{results['python']}\ncorpora and warehouses in {out}", flush=True)
    main_inbox = corpus(out, args.mb, args.seed)
    mb = inbox_mb(main_inbox)

    print(f"[1] full load of {mb:.1f} MB, {w} workers", flush=True)
    full_db = runs / "full.duckdb"
    full = flow_run(main_inbox, full_db, w, log)
    rows = table_rows(full_db)

    print("[2] jieba bound, and the pipeline's segmenter, on the same unique text", flush=True)
    texts = unique_texts(full_db)
    unique_mb = sum(len(t.encode("utf-8")) for t in texts) / 2**20
    bound_s = cut_bound(texts, w, "jieba")
    ratio = bound_s / full.flow_seconds
    # The pipeline cuts the same words faster than jieba does (flows/steps/lexicon.py):
    # its own floor, and the ratio to it, show what the rest of the pipeline costs.
    segmenter_s = cut_bound(texts, w, "segmenter")

    speedup = core_speedup = None
    if not args.skip_speedup and w > 1:
        print(f"[3] full load of {mb:.1f} MB, 1 worker", flush=True)
        single = flow_run(main_inbox, runs / "single.duckdb", 1, log)
        speedup = single.flow_seconds / full.flow_seconds
        # One worker process still leaves the flow's own process (dedup, validate,
        # staging) a core of its own; the parallel speed-up proper compares one core.
        print(f"[3b] full load of {mb:.1f} MB, 1 worker, on one core", flush=True)
        one_core = flow_run(main_inbox, runs / "one-core.duckdb", 1, log, cores=1)
        core_speedup = one_core.flow_seconds / full.flow_seconds

    print(f"[4] no new files over {args.small_mb:g} MB and {mb:.0f} MB warehouses", flush=True)
    small_inbox = corpus(out, args.small_mb, args.seed)
    small_db = runs / "small.duckdb"
    small_load = flow_run(small_inbox, small_db, w, log)
    idle_small = flow_run(small_inbox, small_db, w, log)
    idle_full = flow_run(main_inbox, full_db, w, log)

    print("[5] one new ~100 KB file into the full warehouse and into an empty one", flush=True)
    new_file = one_file(runs / "new-page-100kb.txt", 100, args.seed + 1)
    grown_db = runs / "grown.duckdb"
    shutil.copy2(full_db, grown_db)
    one_into_full = flow_run(linked_inbox(runs / "inbox-plus-one", main_inbox, [new_file]), grown_db, w, log)
    alone = runs / "inbox-one"
    alone.mkdir()
    shutil.copy2(new_file, alone / new_file.name)
    one_into_empty = flow_run(alone, runs / "one.duckdb", w, log)

    print(f"[6] {args.small_files} small files, 1 worker (thread runner)", flush=True)
    many = runs / "inbox-many"
    writer = CorpusWriter(args.seed + 2)
    many.mkdir()
    for i in range(args.small_files):
        (many / f"{i:05d}.txt").write_text(writer.page()[0], encoding="utf-8")
    # One wave: the stages then run one after the other (waves overlap the flow's stages
    # with the words of the wave before), so the flow's time is their sum plus the rest.
    many_run = flow_run(many, runs / "many.duckdb", 1, log, runner="thread", env={"NEWSETL_WAVE_MB": "1024"})

    big, big_skipped = None, ""
    if args.big_mb:
        # Memory that grows with the corpus, extrapolated from the two loads above: a run
        # that would exhaust the machine is refused rather than left to the OOM killer.
        per_mb = max(0.0, (full.peak_rss_mb - small_load.peak_rss_mb) / max(mb - inbox_mb(small_inbox), 1e-9))
        expected = full.peak_rss_mb + per_mb * (args.big_mb - mb)
        if expected > 0.8 * available_mb():
            big_skipped = (
                f"skipped: {args.big_mb:g} MB would need about {expected / 1024:.0f} GB "
                f"({per_mb:.1f} MB of memory per MB of corpus), {available_mb() / 1024:.0f} GB available"
            )
            print(f"[7] {big_skipped}", flush=True)
        else:
            print(f"[7] load of {args.big_mb:g} MB for peak memory", flush=True)
            try:
                big = flow_run(corpus(out, args.big_mb, args.seed), runs / "big.duckdb", w, log)
            except SystemExit as failed:  # the figures above still get their table
                big_skipped = f"failed: {failed}"

    # --- table ---
    s = full.summary
    say(f"## newsetl benchmark: {mb:.1f} MB corpus, {w} workers")
    say()
    say(f"- machine: {results['machine']}")
    say(f"- {results['python']}")
    say(f"- load average at the end: {machine.load_average()}")
    say(f"- command: `uv run python -m bench.run {' '.join(argv if argv is not None else sys.argv[1:])}`")
    say()
    say("| measure | value | target |")
    say("| --- | --- | --- |")
    say(f"| full load, {full.runner} | {full.flow_seconds:.1f} s, **{mb / full.flow_seconds:.2f} MB/s** | |")
    cpu = (full.cpu_flow_process, full.cpu_workers, full.cpu_api_server)
    busy = full.cores_busy / os.cpu_count()
    say(
        "| CPU of the full load: flow process / workers / local Prefect API server (share of all "
        f"cores busy) | {' s / '.join(f'{c:.1f}' for c in cpu)} s ({busy:.0%}) | |"
    )
    say(
        f"| jieba bound ({w} processes, {unique_mb:.1f} MB unique paragraphs + titles) "
        f"| {bound_s:.1f} s = {mb / bound_s:.2f} MB/s of corpus | |"
    )
    say(
        f"| ratio pipeline / jieba bound | **{ratio:.3f}** | ≥ {TARGETS['ratio']} {mark(ratio >= TARGETS['ratio'])} |"
    )
    say(
        f"| the pipeline's own segmenter alone on the same text (jieba's words but for near-ties; "
        f"{bound_s / segmenter_s:.2f}x as fast) | {segmenter_s:.1f} s; ratio pipeline / it "
        f"**{segmenter_s / full.flow_seconds:.2f}** | |"
    )
    if speedup is not None:
        say(
            # The one-worker run is not one core: its flow process works beside the worker.
            f"| speed-up {w} workers over 1 ({single.flow_seconds:.1f} s / {full.flow_seconds:.1f} s; "
            f"the 1-worker run kept {single.cores_busy:.2f} cores busy) "
            f"| **{speedup:.2f}x** | ≥ {TARGETS['speedup']}x {mark(speedup >= TARGETS['speedup'])} |"
        )
        say(
            f"| speed-up {w} cores over 1: the same load with 1 worker on one core "
            f"({one_core.flow_seconds:.1f} s / {full.flow_seconds:.1f} s) | **{core_speedup:.2f}x** | |"
        )
    for name, run in ((f"{mb:.0f} MB", full), (f"{args.small_mb:g} MB", small_load)):
        say(f"| peak memory, {name} load: {peak_parts(run)} | {run.peak_rss_mb:.0f} MB | |")
    if big_skipped:
        say(f"| peak memory, {args.big_mb:g} MB load | {big_skipped} | < {TARGETS['big_peak_mb']:.0f} MB |")
    if big is not None:
        ok = big.peak_rss_mb < TARGETS["big_peak_mb"]
        say(
            f"| peak memory, {args.big_mb:g} MB load ({big.flow_seconds:.0f} s): {peak_parts(big)} "
            f"| **{big.peak_rss_mb:.0f} MB** "
            f"| < {TARGETS['big_peak_mb']:.0f} MB {mark(ok)} |"
        )
    for name, run in ((f"{args.small_mb:g} MB", idle_small), (f"{mb:.0f} MB", idle_full)):
        ok = run.flow_seconds < TARGETS["nothing_new_s"]
        say(
            f"| no new files, {name} warehouse | **{run.flow_seconds:.2f} s** flow "
            f"| < {TARGETS['nothing_new_s']:.0f} s {mark(ok)} |"
        )
    factor = one_into_full.flow_seconds / one_into_empty.flow_seconds
    say(
        f"| one new 100 KB file: {mb:.0f} MB warehouse / empty | {one_into_full.flow_seconds:.2f} s / "
        f"{one_into_empty.flow_seconds:.2f} s = **{factor:.2f}x** "
        f"| ≤ {TARGETS['one_file_factor']:.0f}x {mark(factor <= TARGETS['one_file_factor'])} |"
    )
    work = sum(many_run.stages.values())
    orchestration = many_run.flow_seconds - work
    say(
        f"| {args.small_files} small files ({many_run.summary['files_new']} new), 1 worker, one wave: work in the stages "
        f"/ the rest (Prefect, I/O between) | {work:.1f} s / {orchestration:.1f} s "
        f"| rest ≤ work {mark(orchestration <= work)} |"
    )
    say()
    say(f"Full load: seconds per stage (summed over chunks and workers), {s['paragraphs']} paragraphs:")
    say()
    say("| " + " | ".join(full.stages) + " | flow wall |")
    say("|" + " --- |" * (len(full.stages) + 1))
    say("| " + " | ".join(f"{v:.1f}" for v in full.stages.values()) + f" | {full.flow_seconds:.1f} |")
    say()
    say("Rows per table after the full load:")
    say()
    say("| " + " | ".join(rows) + " |")
    say("|" + " --- |" * len(rows))
    say("| " + " | ".join(str(v) for v in rows.values()) + " |")
    say()
    dups = s["dup_exact"] + s["dup_near"] + s["dup_contained"]
    say(
        f"Corpus: {s['files_new']} files, {s['articles']} articles, {s['paragraphs']} paragraphs, "
        f"{dups} duplicates ({dups / max(1, s['paragraphs']):.0%}: exact {s['dup_exact']}, near {s['dup_near']}, "
        f"contained {s['dup_contained']}), {s['converted_chars']} characters converted to Simplified, "
        f"{s['quarantined']} rows quarantined."
    )
    (runs / "last-run.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"\n(table saved to {runs / 'last-run.md'}; flow logs in {log})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
