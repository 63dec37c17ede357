"""The `paragraphs` contract: clean Simplified text, one row per paragraph, duplicates marked."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas.checks import (
    ARTICLE_ID,
    CONTROL_OR_PRIVATE,
    DOC_ID,
    NORM_HASH,
    PARAGRAPH_ID,
    PINYIN_ANNOTATION,
    no_match,
    not_blank,
    traditional_class,
)


class ParagraphModel(pa.DataFrameModel):
    paragraph_id: str = pa.Field(unique=True, str_matches=PARAGRAPH_ID)
    article_id: str = pa.Field(str_matches=ARTICLE_ID)
    doc_id: str = pa.Field(str_matches=DOC_ID)
    seq: pl.Int32 = pa.Field(ge=0)
    text: str = pa.Field()
    text_raw: str = pa.Field(str_length={"min_value": 1})
    chars: pl.Int32 = pa.Field(ge=1)
    joined_from: pl.Int32 = pa.Field(ge=1)
    quality_flags: pl.List(pl.String) = pa.Field(nullable=True)
    norm_version: pl.Int32 = pa.Field(ge=1)
    norm_hash: str = pa.Field(str_matches=NORM_HASH)
    dup_status: str = pa.Field(isin=["unique", "exact", "near", "contained"])
    dup_of: str = pa.Field(nullable=True, str_matches=PARAGRAPH_ID)
    similarity: float = pa.Field(nullable=True, ge=0.0, le=1.0)
    dup_method: str = pa.Field(nullable=True)
    cluster_size: pl.Int32 = pa.Field(ge=1)

    @pa.check("text", name="not_blank", error="empty or blank text")
    def not_blank(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(not_blank(data.key))

    @pa.check("text", name="no_control_or_private_use", error="control or private-use character")
    def no_control_or_private_use(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(no_match(data.key, CONTROL_OR_PRIVATE))

    @pa.check("text", name="no_pinyin_annotation", error="pinyin reading left after a character")
    def no_pinyin_annotation(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(no_match(data.key, PINYIN_ANNOTATION))

    @pa.check("text", name="no_traditional_chars", error="Traditional character not converted")
    def no_traditional_chars(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(no_match(data.key, traditional_class()))

    @pa.dataframe_check(name="chars_is_text_length", error="chars is not the length of text")
    def chars_is_text_length(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("chars") == pl.col("text").str.len_chars())

    @pa.dataframe_check(
        name="dup_of_iff_duplicate", error="dup_of must be set exactly when dup_status is not unique"
    )
    def dup_of_iff_duplicate(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("dup_status") != "unique") == pl.col("dup_of").is_not_null())

    @pa.dataframe_check(name="not_duplicate_of_itself", error="dup_of points at the paragraph itself")
    def not_duplicate_of_itself(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("dup_of") != pl.col("paragraph_id")).fill_null(True))

    @pa.dataframe_check(name="id_matches_article_and_seq", error="paragraph_id is not <article_id>-p<seq>")
    def id_matches_article_and_seq(cls, data: pa.PolarsData) -> pl.LazyFrame:
        expected = pl.col("article_id") + "-p" + pl.col("seq").cast(pl.String).str.zfill(3)
        return data.lazyframe.select(pl.col("paragraph_id") == expected)

    @pa.dataframe_check(name="article_of_doc", error="article_id does not belong to doc_id")
    def article_of_doc(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.col("article_id").str.slice(0, 16) == pl.col("doc_id").str.slice(0, 16)
        )

    class Config:
        strict = True
