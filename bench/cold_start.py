"""Cold start of `newsetl run`, timed from the shell: a fresh process each time.

    uv run python -m bench.cold_start --reps 5

Two cases, each in its own temporary warehouse:
- `seeds`: the five seed pages into an empty warehouse (a new warehouse per repetition);
- `nothing new`: the same inbox again over a warehouse that already holds it.

Each repetition runs the command a user types (`uv run --frozen newsetl run ...`) and
checks what it printed: exit code 0, nothing on stderr, and stdout only the run summary
(no ERROR/WARNING lines, no traceback). Prints the wall times and those checks.

`--bytecode` repeats both cases with site-packages precompiled (what `uv sync
--compile-bytecode` gives; this machine sets PYTHONDONTWRITEBYTECODE=1, so without it
every start compiles the ~2,000 modules it imports). `--with-server` repeats them with a
Prefect server already running and PREFECT_API_URL set (the `newsetl serve` setting).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import machine

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_COMMAND = "uv run --frozen newsetl run"
# The summary's first line, then its indented lines (flows/steps/report.py RunSummary.text).
SUMMARY_HEAD = re.compile(r"^run \S+: completed")
NOISE = re.compile(r"ERROR|WARNING|Traceback|Exception|CancelledError")


@dataclass
class Attempt:
    seconds: float
    cpu_seconds: float  # user + system of the run and its children (the local Prefect server)
    returncode: int
    stdout: str
    stderr: str

    def problems(self) -> list[str]:
        found = []
        if self.returncode != 0:
            found.append(f"exit code {self.returncode}")
        if self.stderr.strip():
            found.append(f"stderr: {self.stderr.strip().splitlines()[0][:120]}")
        lines = self.stdout.strip().splitlines()
        if not lines or not SUMMARY_HEAD.match(lines[0]):
            found.append(f"stdout does not start with the summary: {lines[:1]}")
        if any(not line.startswith("  ") for line in lines[1:]):
            found.append("stdout has lines that are not part of the summary")
        if NOISE.search(self.stdout):
            found.append("stdout has ERROR/WARNING/traceback text")
        return found


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(command: list[str], inbox: Path, db: Path, env: dict[str, str]) -> Attempt:
    cpu, start = _children_cpu(), time.perf_counter()
    proc = subprocess.run(
        [*command, "--inbox", str(inbox), "--db", str(db)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    return Attempt(wall, _children_cpu() - cpu, proc.returncode, proc.stdout, proc.stderr)


def precompiled_env(cache: Path) -> dict[str, str]:
    """Bytecode for site-packages compiled into `cache`, used through PYTHONPYCACHEPREFIX.

    Shows what `uv sync --compile-bytecode` gives without changing the environment.
    """
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(cache)}
    site = subprocess.run(
        [
            "uv",
            "run",
            "--frozen",
            "python",
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run(
        ["uv", "run", "--frozen", "python", "-m", "compileall", "-q", "-j", "0", site, str(ROOT)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,  # a few vendored test files do not compile; the rest still counts
    )
    return env


def report(name: str, attempts: list[Attempt]) -> bool:
    times = [a.seconds for a in attempts]
    print(
        f"{name:<20} n={len(times)}  median {statistics.median(times):5.2f} s  "
        f"min {min(times):5.2f} s  max {max(times):5.2f} s  "
        f"all: {' '.join(f'{t:.2f}' for t in times)}"
    )
    cpu = statistics.median(a.cpu_seconds for a in attempts)
    print(f"{'':<20} median CPU (user+sys, this run and its server) {cpu:5.2f} s")
    clean = True
    for i, attempt in enumerate(attempts, 1):
        for problem in attempt.problems():
            clean = False
            print(f"    run {i}: {problem}")
    print(f"    output only the summary, exit 0: {'yes' if clean else 'NO'}")
    return clean


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--inbox", type=Path, default=ROOT / "seeds")
    parser.add_argument("--command", default=DEFAULT_COMMAND, help=f"default: {DEFAULT_COMMAND!r}")
    parser.add_argument(
        "--bytecode",
        action="store_true",
        help="also time runs with site-packages precompiled (through PYTHONPYCACHEPREFIX in a temporary dir)",
    )
    parser.add_argument(
        "--with-server",
        action="store_true",
        help="also time runs against a running Prefect server (PREFECT_API_URL set, as with `newsetl serve`)",
    )
    parser.add_argument("--show-output", action="store_true", help="print the last run's output")
    args = parser.parse_args(argv)
    command = shlex.split(args.command)

    print(f"machine: {machine.describe()}")
    print(f"python:  {machine.bytecode_state()}")
    print(f"command: {args.command} --inbox {args.inbox} --db <temporary>")
    ok = True
    with tempfile.TemporaryDirectory(prefix="newsetl-cold-") as tmp:
        ok &= cases(command, args.inbox, Path(tmp), dict(os.environ), args.reps, "", args.show_output)
        if args.bytecode:
            env = precompiled_env(Path(tmp) / "pycache")
            ok &= cases(command, args.inbox, Path(tmp), env, args.reps, " +bytecode", args.show_output)
        if args.with_server:
            ok &= with_server(command, args.inbox, Path(tmp), args.reps, args.show_output)
    print(f"load average after: {machine.load_average()}")
    return 0 if ok else 1


def with_server(command: list[str], inbox: Path, tmp: Path, reps: int, show: bool) -> bool:
    """The runs with a Prefect server already up: what a configured PREFECT_API_URL gives."""
    from flows.prefect_api import LocalApiServer

    server = LocalApiServer()
    url = server.start()
    try:
        server.wait_ready()
        env = {**os.environ, "PREFECT_API_URL": url}
        return cases(command, inbox, tmp, env, reps, " +server", show)
    finally:
        server.stop()


def cases(
    command: list[str], inbox: Path, tmp: Path, env: dict[str, str], reps: int, tag: str, show: bool
) -> bool:
    ok = True
    dbs = [tmp / f"seeds{tag.strip()}-{i}.duckdb" for i in range(reps)]
    seeds = [run_once(command, inbox, db, env) for db in dbs]
    ok &= report("seeds" + tag, seeds)
    nothing_new = [run_once(command, inbox, dbs[0], env) for _ in range(reps)]  # dbs[0] holds the inbox
    ok &= report("nothing new" + tag, nothing_new)
    if show:
        print(nothing_new[-1].stdout, nothing_new[-1].stderr, sep="\n")
    return ok


if __name__ == "__main__":
    sys.exit(main())
