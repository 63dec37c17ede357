"""newsetl's pipeline: the stages (`flows.steps`), their Prefect tasks and the flow.

Memory settings of every process that imports the package (the flow's and its workers'):

- glibc's malloc maps large blocks apart (`flows.heap`), so that freeing them gives their
  pages back, and the flow process does not grow wave by wave.
- polars allocates through its own jemalloc, which by default keeps freed pages for ~10 s
  to reuse them. A run frees most of what each task or wave allocated within seconds, so
  every process kept ~100 MB it no longer used. Given back at once, a 100 MB load peaked
  at 1313-1340 MB in all instead of 1461-1476 MB, with time and CPU within the machine's
  noise (`bench.flow_once`, three runs each; docs/performance-log.md). jemalloc reads its
  settings once, when polars first allocates, so they are set here, before any module of
  the package imports polars; the process-pool workers inherit them. A value set in the
  environment is kept.
"""

import os

from flows import heap

heap.map_large_blocks_apart()
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
