"""Run settings, from environment variables (so a deployment and a CLI run read the same)."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _float_env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r} is not a number") from exc


@dataclass(frozen=True)
class Settings:
    # A run fails (and loads nothing but its runs row and quarantine) when more than this
    # share of the checked rows fail validation.
    max_failed_share: float = 0.2
    # Per-file stages get files in chunks of about this size: large enough that task
    # overhead is small beside the work, small enough to spread over the workers.
    chunk_bytes: int = 4 << 20
    # A run takes its new files in waves of about this size, each through dedup, tokenize
    # and validate, then staged on disk: the run's memory is one wave, whatever the backlog.
    wave_bytes: int = 8 << 20
    # Files larger than this are rejected rather than read into memory.
    max_file_bytes: int = 64 << 20
    # A run that finds another run on the same warehouse waits this long, then gives up
    # with a message (the next scheduled run picks the files up).
    lock_wait_seconds: float = 30.0
    # The warehouse file opened by another program (a DuckDB shell): retry this long,
    # then stop with a message naming the process.
    busy_wait_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_failed_share <= 1.0:
            raise ValueError(f"NEWSETL_MAX_FAILED_SHARE must be between 0 and 1, not {self.max_failed_share}")
        for name in ("chunk_bytes", "wave_bytes", "max_file_bytes", "lock_wait_seconds", "busy_wait_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            max_failed_share=_float_env("NEWSETL_MAX_FAILED_SHARE", cls.max_failed_share),
            chunk_bytes=int(_float_env("NEWSETL_CHUNK_MB", cls.chunk_bytes / (1 << 20)) * (1 << 20)),
            wave_bytes=int(_float_env("NEWSETL_WAVE_MB", cls.wave_bytes / (1 << 20)) * (1 << 20)),
            max_file_bytes=int(_float_env("NEWSETL_MAX_FILE_MB", cls.max_file_bytes / (1 << 20)) * (1 << 20)),
            lock_wait_seconds=_float_env("NEWSETL_LOCK_WAIT_SECONDS", cls.lock_wait_seconds),
            busy_wait_seconds=_float_env("NEWSETL_BUSY_WAIT_SECONDS", cls.busy_wait_seconds),
        )
