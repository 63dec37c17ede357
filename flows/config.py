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
    # Files larger than this are rejected rather than read into memory.
    max_file_bytes: int = 64 << 20

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            max_failed_share=_float_env("NEWSETL_MAX_FAILED_SHARE", cls.max_failed_share),
            chunk_bytes=int(_float_env("NEWSETL_CHUNK_MB", cls.chunk_bytes / (1 << 20)) * (1 << 20)),
            max_file_bytes=int(_float_env("NEWSETL_MAX_FILE_MB", cls.max_file_bytes / (1 << 20)) * (1 << 20)),
        )
