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
    """Peak memory of this process plus its workers (sampled), without the API server; and
    the CPU seconds the workers used (their last sample).

    Two measures: the sum of resident sets (RSS, every `every` s), which counts each page
    the processes share (Python, polars and DuckDB's code, pages a spawned worker maps
    from the same files) once per process, and the sum of proportional sets (PSS: a
    shared page counted once in all), the memory the machine actually gave the run. PSS
    is read when the RSS sum has reached a new high, at most once per `pss_every` s:
    reading it walks each process's page tables (~5 ms per 300 MB, in the kernel, under
    the process's memory-map lock); read every second it cost 4.7 CPU s of a 100 MB load.

    The sampler shares the flow process's cores and interpreter lock: the list of
    workers (a walk of /proc) is refreshed once a second, not at every sample. It cost
    2.2 CPU s of a 100 MB load when it walked /proc ten times a second.
    """

    def __init__(
        self,
        exclude_pid: int | None = None,
        every: float = 0.1,
        pss_every: float = 1.0,
        scan_every: float = 1.0,
    ) -> None:
        self.exclude = exclude_pid
        self.every, self.pss_every, self.scan_every = every, pss_every, scan_every
        self.peak_bytes = 0
        self.peak_split = (0, 0)  # (flow process, workers) at the peak
        self.peak_pss_bytes = 0
        self.worker_cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _workers(self, me: psutil.Process) -> list[psutil.Process]:
        workers = [c for c in me.children(recursive=True) if c.pid != self.exclude]
        for worker in workers:
            try:
                cpu = worker.cpu_times()
                self.worker_cpu[worker.pid] = cpu.user + cpu.system
            except psutil.NoSuchProcess:
                continue
        return workers

    def _sample(self) -> None:
        me = psutil.Process()
        workers: list[psutil.Process] = []
        next_scan = next_pss = 0.0
        new_high = False
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_scan:
                workers, next_scan = self._workers(me), now + self.scan_every
            main, in_workers = me.memory_info().rss, 0
            for worker in workers:
                try:
                    in_workers += worker.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
            if main + in_workers > self.peak_bytes:
                self.peak_bytes, self.peak_split = main + in_workers, (main, in_workers)
                new_high = True
            if new_high and now >= next_pss:  # a high within the last pss_every s: read now
                self.peak_pss_bytes = max(self.peak_pss_bytes, _pss([me, *workers]))
                next_pss, new_high = now + self.pss_every, False
            self._stop.wait(self.every)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _cpu_seconds(pid: int | None) -> float:
    """CPU seconds process `pid` has used so far (0 for none)."""
    if pid is None:
        return 0.0
    cpu = psutil.Process(pid).cpu_times()
    return cpu.user + cpu.system + cpu.children_user + cpu.children_system


def _pss(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        try:
            total += process.memory_full_info().pss
        except psutil.NoSuchProcess:
            continue
    return total


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
        server_cpu_start = _cpu_seconds(server_pid)
        with PeakMemory(exclude_pid=server_pid) as memory, prefect_api.without_heartbeats():
            start, cpu_start = time.perf_counter(), time.process_time()
            summary = flow(inbox=args.inbox, db=args.db)
            flow_seconds = time.perf_counter() - start
            flow_cpu = time.process_time() - cpu_start
        server_cpu = _cpu_seconds(server_pid) - server_cpu_start
    result = {
        "runner": choice.describe(),
        "import_seconds": round(imported, 2),
        "api_ready_seconds": round(ready, 2),
        "flow_seconds": round(flow_seconds, 3),
        # CPU seconds of the flow's own process and of its workers: how busy the cores were.
        "cpu_seconds_flow_process": round(flow_cpu, 1),
        "cpu_seconds_workers": round(sum(memory.worker_cpu.values()), 1),
        # ... and of the local Prefect API server during the flow: it records every task
        # run's states and events on the same cores.
        "cpu_seconds_api_server": round(server_cpu, 1),
        "peak_rss_mb": round(memory.peak_bytes / 2**20, 1),
        "peak_pss_mb": round(memory.peak_pss_bytes / 2**20, 1),
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
