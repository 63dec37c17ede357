"""What the machine was doing while a benchmark ran: the figures mean little without it."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min) {five:.2f} (5 min)"


def bytecode_state() -> str:
    """Whether site-packages holds compiled bytecode; without it every start compiles ~7,000 files."""
    import prefect

    cached = Path(prefect.__file__).parent / "__pycache__"
    compiled = cached.is_dir() and any(cached.glob("*.pyc"))
    dont_write = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
    return (
        f"site-packages bytecode {'present' if compiled else 'absent'}"
        f", PYTHONDONTWRITEBYTECODE={'1' if dont_write else 'unset'}"
    )


def describe() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.node()}: {os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GB RAM, "
        f"Python {sys.version.split()[0]}, load average {load_average()}"
    )
