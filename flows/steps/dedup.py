"""Dedup: mark repeated paragraphs, within the batch and against the warehouse history.

The comparison key folds width (NFKC) and drops punctuation and whitespace, so the same
paragraph typed with other punctuation still matches; the displayed text is untouched.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import polars as pl
import xxhash

NORM_VERSION = 1
_NOT_KEY = re.compile(r"[\W_]+", re.UNICODE)


def norm_key(text: str) -> str:
    """The comparison key of a paragraph (version NORM_VERSION)."""
    return _NOT_KEY.sub("", unicodedata.normalize("NFKC", text)).lower()


def norm_hash(key: str) -> str:
    return xxhash.xxh3_128_hexdigest(key.encode("utf-8"))


# Given norm hashes, return the kept paragraph_id already stored for each hash found.
HistoryLookup = Callable[[list[str]], dict[str, str]]


def mark_duplicates(paragraphs: pl.DataFrame, history: HistoryLookup) -> pl.DataFrame:
    """Add norm_version, norm_hash, dup_status, dup_of, similarity, dup_method, cluster_size.

    `paragraphs` must be in load order (documents by path, then paragraph order): the
    first copy in that order is kept, unless the warehouse already holds one.
    """
    hashes = [norm_hash(norm_key(t)) for t in paragraphs["text"].to_list()]
    stored = history(sorted(set(hashes)))
    kept: dict[str, str] = dict(stored)
    status, dup_of, similarity, method = [], [], [], []
    for pid, h in zip(paragraphs["paragraph_id"].to_list(), hashes, strict=True):
        if h in kept:
            status.append("exact")
            dup_of.append(kept[h])
            similarity.append(1.0)
            method.append("norm_hash")
        else:
            kept[h] = pid
            status.append("unique")
            dup_of.append(None)
            similarity.append(None)
            method.append(None)
    out = paragraphs.with_columns(
        pl.lit(NORM_VERSION, dtype=pl.Int32).alias("norm_version"),
        pl.Series("norm_hash", hashes, dtype=pl.String),
        pl.Series("dup_status", status, dtype=pl.String),
        pl.Series("dup_of", dup_of, dtype=pl.String),
        pl.Series("similarity", similarity, dtype=pl.Float64),
        pl.Series("dup_method", method, dtype=pl.String),
    )
    copies = out.filter(pl.col("dup_of").is_not_null()).group_by("dup_of").len()
    return (
        out.join(copies, left_on="paragraph_id", right_on="dup_of", how="left")
        .with_columns((pl.col("len").fill_null(0) + 1).cast(pl.Int32).alias("cluster_size"))
        .drop("len")
    )
