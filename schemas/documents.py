"""The `documents` contract: one row per file version seen in the inbox, loaded or rejected."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas.checks import DOC_ID, EARLIEST_NEWS_DATE, date_in_news_range, not_blank


class DocumentModel(pa.DataFrameModel):
    doc_id: str = pa.Field(unique=True, str_matches=DOC_ID)
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

    @pa.check(
        "published_at", name="published_in_news_range", error=f"not between {EARLIEST_NEWS_DATE} and today"
    )
    def published_in_news_range(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(date_in_news_range(data.key))

    @pa.check("source", "editor", "reject_reason", name="not_blank", error="blank text")
    def not_blank(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(not_blank(data.key))

    @pa.dataframe_check(
        name="rejected_has_reason", error="a rejected file must have a reason, a loaded one none"
    )
    def rejected_has_reason(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("status") == "rejected") == pl.col("reject_reason").is_not_null()
        )

    @pa.dataframe_check(name="retryable_only_if_rejected", error="only a rejected file can be retryable")
    def retryable_only_if_rejected(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~pl.col("retryable") | (pl.col("status") == "rejected"))

    @pa.dataframe_check(name="loaded_has_encoding", error="a loaded file must have its encoding")
    def loaded_has_encoding(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("status") != "loaded") | pl.col("encoding").is_not_null())

    class Config:
        strict = True
