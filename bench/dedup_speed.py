"""CPU and peak memory of the dedup stage (`mark_duplicates`), checked against a reference.

    uv run python -m bench.dedup_speed --inbox bench-out/corpus-10mb-seed8 --before REV

Builds the stage's input frames from the corpus with the pure stages (decode -> clean ->
repair -> segment -> tables, as `bench.stages` does) and caches them as Parquet under
--work. The reference results are what flows/steps/{dedup,minhash}.py as of git revision
REV return for every case (saved once per revision under --work). Then each case runs
in a fresh process, once with REV's code ("before") and once with the working tree's
("after"); both must return the reference paragraphs frame (row for row), index frames
and history updates (as sets of rows: their order is not part of the result), and the
table shows CPU seconds and the peak growth of resident memory during the call: of the
first call in the process and of a second, warm one (the flow calls dedup once per
wave, in one process).

Cases: `all` the whole corpus in one call; `wave1` its first files (by path) up to 2 MB;
`wave2` the next 2 MB against a warehouse holding wave1's index (the history lookup path:
stored exact copies, stored candidates, demoted stored fragments).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import polars as pl

CASES = ("all", "wave1", "wave2")
WAVE_BYTES = 2 << 20
RESULT_TABLES = ("paragraphs", "dedup_keys", "dedup_bands", "dedup_anchors", "history_updates")


# --- the input frames ---------------------------------------------------------------------


def build_frames(inbox: Path, work: Path) -> None:
    """paragraphs / documents frames of every case, from the corpus by the real stages."""
    from flows import tasks, text_work
    from flows.steps import discover

    files = discover.list_inbox(inbox)
    for f in files:
        f.doc_id = discover.sha256_file(Path(f.abs_path))
    (chunk,) = tasks.chunk_files(files, 1 << 40)
    batch = tasks.to_batch([text_work.restore_chunk(chunk)])
    documents = batch.documents.sort("path")
    # Waves of whole files in path order (load order), as the flow would cut them.
    wave = (documents["size_bytes"].cum_sum() - 1) // WAVE_BYTES
    subsets = {"all": documents, "wave1": documents.filter(wave == 0), "wave2": documents.filter(wave == 1)}
    for case, docs in subsets.items():
        docs.write_parquet(work / f"{case}-documents.parquet")
        paragraphs = batch.paragraphs.join(docs.select("doc_id"), on="doc_id", how="semi")
        paragraphs.write_parquet(work / f"{case}-paragraphs.parquet")


def history_db(reference: Path) -> Path:
    """A warehouse holding only the dedup index of the reference `wave1` case."""
    import duckdb

    path = reference / "wave1-history.duckdb"
    if path.exists():
        return path
    ddl = (Path(__file__).parents[1] / "warehouse" / "ddl" / "002_dedup_index.sql").read_text()
    with duckdb.connect(str(path)) as con:
        con.execute(ddl)
        for table in RESULT_TABLES[1:4]:
            rows = pl.read_parquet(reference / f"wave1-{table}.parquet").to_arrow()
            con.register("rows", rows)
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM rows")
            con.unregister("rows")
    return path


# --- one measured call, in its own process --------------------------------------------------


def load_dedup(rev: str | None) -> types.ModuleType:
    """flows.steps.dedup as it is now, or (with its minhash) as it was in git revision `rev`."""
    if rev is not None:
        import flows.steps

        for name in ("minhash", "dedup"):
            source = subprocess.run(
                ["git", "show", f"{rev}:flows/steps/{name}.py"], check=True, capture_output=True, text=True
            ).stdout
            module = types.ModuleType(f"flows.steps.{name}")
            # Registered before it runs: dataclasses look their module up in sys.modules.
            sys.modules[module.__name__] = module
            setattr(flows.steps, name, module)
            exec(compile(source, f"{rev}:flows/steps/{name}.py", "exec"), module.__dict__)
    from flows.steps import dedup

    return dedup


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def measure(case: str, work: Path, reference: Path, rev: str | None, out: Path) -> dict[str, float]:
    """Run the case once cold (first call in the process) and once warm; save the cold result."""
    dedup = load_dedup(rev)
    paragraphs = pl.read_parquet(work / f"{case}-paragraphs.parquet")
    documents = pl.read_parquet(work / f"{case}-documents.parquet")
    if case == "wave2":
        from warehouse.dedup_index import history_lookup

        history = history_lookup(history_db(reference))
    else:
        history = dedup.no_history
    figures: dict[str, float] = {"paragraphs": paragraphs.height, "mb": documents["size_bytes"].sum() / 2**20}
    for run in ("cold", "warm"):
        # Linux: writing 5 to clear_refs resets the peak (VmHWM) to the current RSS.
        Path("/proc/self/clear_refs").write_text("5")
        rss_before = _status_kb("VmRSS")
        cpu, wall = time.process_time(), time.perf_counter()
        result = dedup.mark_duplicates(paragraphs, documents, history)
        figures[f"{run}_cpu_s"] = time.process_time() - cpu
        figures[f"{run}_wall_s"] = time.perf_counter() - wall
        figures[f"{run}_peak_mb"] = (_status_kb("VmHWM") - rss_before) / 1024
        if run == "cold":
            tables = {
                "paragraphs": result.paragraphs,
                **result.index,
                "history_updates": result.history_updates,
            }
            for name in RESULT_TABLES:
                tables[name].write_parquet(out / f"{case}-{name}.parquet")
        del result
    return figures


def run_case(case: str, args: argparse.Namespace, rev: str | None, out: Path) -> dict[str, float]:
    command = [
        sys.executable,
        "-m",
        "bench.dedup_speed",
        "--inbox",
        str(args.inbox),
        "--work",
        str(args.work),
    ]
    command += ["--child", case, "--reference", str(args.reference), "--out", str(out)]
    done = subprocess.run(
        command + (["--rev", rev] if rev else []), check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.splitlines()[-1])


# --- checking and reporting ---------------------------------------------------------------


def assert_same(case: str, got: Path, reference: Path) -> None:
    from polars.testing import assert_frame_equal

    for name in RESULT_TABLES:
        expected = pl.read_parquet(reference / f"{case}-{name}.parquet")
        actual = pl.read_parquet(got / f"{case}-{name}.parquet")
        if name != "paragraphs":
            # Rows of a table to load: their order is not part of the result (the reference
            # code's own joins return them in a different order from run to run).
            expected, actual = expected.sort(pl.all()), actual.sort(pl.all())
        try:
            assert_frame_equal(actual, expected, check_exact=True)
        except AssertionError as err:
            raise AssertionError(f"{case}: {name} differs from the reference: {err}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbox", type=Path, required=True)
    parser.add_argument("--before", metavar="REV", help="git revision giving the reference results")
    parser.add_argument("--work", type=Path, help="cache of frames and references (default: under /tmp)")
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--child", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--reference", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rev", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.work, args.reference, args.rev, args.out)))
        return 0
    if not args.before:
        parser.error("--before REV is required: the revision whose results are the reference")

    args.work = args.work or Path(tempfile.gettempdir()) / "dedup-speed" / args.inbox.resolve().name
    args.work.mkdir(parents=True, exist_ok=True)
    if not (args.work / "all-paragraphs.parquet").exists():
        build_frames(args.inbox, args.work)
    sha = subprocess.run(["git", "rev-parse", args.before], check=True, capture_output=True, text=True)
    rev = sha.stdout.strip()
    args.reference = args.work / f"reference-{rev[:12]}"
    if not (args.reference / "done").exists():
        args.reference.mkdir(exist_ok=True)
        # In CASES order: wave2's history is the saved wave1 index.
        for case in CASES:
            run_case(case, args, rev, args.reference)
        (args.reference / "done").touch()

    print(
        f"{'case':<6} {'MB':>5} {'paragraphs':>10} {'version':<8} {'CPU s':>7} {'warm CPU s':>10} "
        f"{'peak RSS +MB':>12}"
    )
    for case in args.cases:
        for label, version in (("before", rev), ("after", None)):
            with tempfile.TemporaryDirectory() as out:
                f = run_case(case, args, version, Path(out))
                assert_same(case, Path(out), args.reference)
            print(
                f"{case:<6} {f['mb']:5.1f} {f['paragraphs']:>10.0f} {label:<8} {f['cold_cpu_s']:7.2f} "
                f"{f['warm_cpu_s']:10.2f} {f['cold_peak_mb']:12.0f}"
            )
    print(f"results equal to those of {args.before} ({rev[:12]}):", ", ".join(args.cases))
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
