"""newsetl's pipeline: the stages (`flows.steps`), their Prefect tasks and the flow.

polars allocates through its own jemalloc, which by default keeps freed pages for ~10 s
to reuse them. A run frees most of what each task or wave allocated within seconds, so
every process kept ~100 MB it no longer used: a process-pool worker peaked at 450-500 MB
on the same tasks that take 385-400 MB with the pages given back at once, and a 100 MB
load peaked at 1468 MB in all against 1313 MB, in 89.9 s against 87.0 s, with the same
CPU (`bench.flow_once`, one run each). jemalloc reads its settings once, when polars
first allocates, so they are set here, before any module of the package imports polars;
the process-pool workers inherit them. A value set in the environment is kept.
"""

import os

os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
