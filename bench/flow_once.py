"""One real `ingest_news` run in a fresh process, measured; prints one JSON line.

Used by `bench.run` (each scenario in its own process, so peak memory is that run's):

    uv run python -m bench.flow_once --inbox DIR --db FILE --runner process --workers 2

The Prefect API is the one `newsetl run` uses (`flows.prefect_api`); its start-up is
reported apart from the flow's time, and its memory is not counted as the pipeline's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time

import psutil

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


class PeakMemory:
    """Peak resident memory of this process plus its workers (sampled), without the API
    server; and the CPU seconds the workers used (their last sample)."""

    def __init__(self, exclude_pid: int | None = None, every: float = 0.1) -> None:
        self.exclude = exclude_pid
        self.every = every
        self.peak_bytes = 0
        self.peak_split = (0, 0)  # (flow process, workers) at the peak
        self.worker_cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            main, workers = me.memory_info().rss, 0
            for child in me.children(recursive=True):
                if child.pid == self.exclude:
                    continue
                try:
                    workers += child.memory_info().rss
                    cpu = child.cpu_times()
                    self.worker_cpu[child.pid] = cpu.user + cpu.system
                except psutil.NoSuchProcess:
                    continue
            if main + workers > self.peak_bytes:
                self.peak_bytes, self.peak_split = main + workers, (main, workers)
            self._stop.wait(self.every)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbox", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--runner", default="process")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument(
        "--cores", type=int, default=None, help="run on this many cores only (the workers and API server too)"
    )
    args = parser.parse_args(argv)
    if args.cores:
        # Set before anything starts: the API server and the workers inherit it.
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores])

    from flows import prefect_api

    t0 = time.perf_counter()
    with prefect_api.api_for_run() as server:
        from flows import runners
        from flows.ingest import ingest_news

        imported = time.perf_counter() - t0
        choice = runners.choose(args.runner, args.workers, None, args.inbox)
        flow = ingest_news.with_options(task_runner=runners.build(choice))
        if server is not None:
            server.wait_ready(prefect_api.startup_timeout())
        ready = time.perf_counter() - t0
        server_pid = server.process.pid if server is not None and server.process else None
        with PeakMemory(exclude_pid=server_pid) as memory:
            start, cpu_start = time.perf_counter(), time.process_time()
            summary = flow(inbox=args.inbox, db=args.db)
            flow_seconds = time.perf_counter() - start
            flow_cpu = time.process_time() - cpu_start
    result = {
        "runner": choice.describe(),
        "import_seconds": round(imported, 2),
        "api_ready_seconds": round(ready, 2),
        "flow_seconds": round(flow_seconds, 3),
        # CPU seconds of the flow's own process and of its workers: how busy the cores were.
        "cpu_seconds_flow_process": round(flow_cpu, 1),
        "cpu_seconds_workers": round(sum(memory.worker_cpu.values()), 1),
        "peak_rss_mb": round(memory.peak_bytes / 2**20, 1),
        # What made up that peak: the flow's process and the workers at that moment.
        "peak_split_mb": [round(b / 2**20, 1) for b in memory.peak_split],
        # The flow's own process alone (ru_maxrss is in KB on Linux).
        "peak_main_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "summary": summary.as_row(),
    }
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
