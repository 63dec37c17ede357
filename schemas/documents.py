from __future__ import annotations

import pandera.polars as pa
import polars as pl


class DocumentModel(pa.DataFrameModel):
    """One row per file version seen in the inbox (loaded or rejected)."""

    doc_id: str = pa.Field(unique=True, str_matches=r"^[0-9a-f]{64}$")
    path: str = pa.Field(str_length={"min_value": 1})
    size_bytes: int = pa.Field(ge=0)
    mtime_ns: int = pa.Field(nullable=True)
    encoding: str = pa.Field(nullable=True)
    script: str = pa.Field(nullable=True, isin=["simplified", "traditional", "mixed"])
    source: str = pa.Field(nullable=True)
    published_at: pl.Datetime = pa.Field(nullable=True)
    editor: str = pa.Field(nullable=True)
    status: str = pa.Field(isin=["loaded", "rejected"])
    reject_reason: str = pa.Field(nullable=True)
    retryable: bool

    @pa.dataframe_check(name="rejected_has_reason")
    def rejected_has_reason(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("status") == "rejected") == pl.col("reject_reason").is_not_null()
        )

    class Config:
        strict = True
