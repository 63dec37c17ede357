from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas.checks import CONTROL_OR_PRIVATE, PINYIN_ANNOTATION, traditional_class


class ParagraphModel(pa.DataFrameModel):
    paragraph_id: str = pa.Field(unique=True, str_matches=r"^[0-9a-f]{16}-a\d{3}-p\d{3}$")
    article_id: str = pa.Field(str_matches=r"^[0-9a-f]{16}-a\d{3}$")
    doc_id: str = pa.Field(str_matches=r"^[0-9a-f]{64}$")
    seq: pl.Int32 = pa.Field(ge=0)
    text: str = pa.Field(str_length={"min_value": 1})
    text_raw: str = pa.Field(str_length={"min_value": 1})
    chars: pl.Int32 = pa.Field(ge=1)
    joined_from: pl.Int32 = pa.Field(ge=1)
    quality_flags: pl.List(pl.String) = pa.Field(nullable=True)
    norm_version: pl.Int32 = pa.Field(ge=1)
    norm_hash: str = pa.Field(str_matches=r"^[0-9a-f]{32}$")
    dup_status: str = pa.Field(isin=["unique", "exact", "near", "contained"])
    dup_of: str = pa.Field(nullable=True)
    similarity: float = pa.Field(nullable=True, ge=0.0, le=1.0)
    dup_method: str = pa.Field(nullable=True)
    cluster_size: pl.Int32 = pa.Field(ge=1)

    @pa.check("text", name="no_control_or_private_use")
    def no_control_or_private_use(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~pl.col(data.key).str.contains(CONTROL_OR_PRIVATE))

    @pa.check("text", name="no_pinyin_annotation")
    def no_pinyin_annotation(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~pl.col(data.key).str.contains(PINYIN_ANNOTATION))

    @pa.check("text", name="no_traditional_chars")
    def no_traditional_chars(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~pl.col(data.key).str.contains(traditional_class()))

    @pa.dataframe_check(name="chars_is_text_length")
    def chars_is_text_length(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("chars") == pl.col("text").str.len_chars())

    @pa.dataframe_check(name="dup_of_iff_duplicate")
    def dup_of_iff_duplicate(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("dup_status") != "unique") == pl.col("dup_of").is_not_null())

    class Config:
        strict = True
