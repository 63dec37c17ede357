"""The `articles` contract: one row per article (news, photo or section) of a loaded page."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas.checks import (
    ARTICLE_ID,
    CONTROL_OR_PRIVATE,
    DOC_ID,
    EARLIEST_NEWS_DATE,
    PINYIN_ANNOTATION,
    all_names_valid,
    date_in_news_range,
    no_match,
    not_blank,
    traditional_class,
)

TEXT_FIELDS = ("title", "subtitle", "kicker", "byline")
PEOPLE_FIELDS = ("reporters", "correspondents", "photographers")


class ArticleModel(pa.DataFrameModel):
    article_id: str = pa.Field(unique=True, str_matches=ARTICLE_ID)
    doc_id: str = pa.Field(str_matches=DOC_ID)
    seq: pl.Int32 = pa.Field(ge=0)
    kind: str = pa.Field(isin=["news", "photo", "section"])
    title: str = pa.Field(nullable=True)
    subtitle: str = pa.Field(nullable=True)
    kicker: str = pa.Field(nullable=True)
    byline: str = pa.Field(nullable=True)
    reporters: pl.List(pl.String) = pa.Field(nullable=True)
    correspondents: pl.List(pl.String) = pa.Field(nullable=True)
    photographers: pl.List(pl.String) = pa.Field(nullable=True)
    event_date: pl.Date = pa.Field(nullable=True)
    chars: pl.Int32 = pa.Field(ge=0)

    @pa.check(*TEXT_FIELDS, name="not_blank", error="blank text")
    def not_blank(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(not_blank(data.key))

    @pa.check(*TEXT_FIELDS, name="no_control_or_private_use", error="control or private-use character")
    def no_control_or_private_use(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(no_match(data.key, CONTROL_OR_PRIVATE))

    @pa.check(*TEXT_FIELDS, name="no_pinyin_annotation", error="pinyin reading left after a character")
    def no_pinyin_annotation(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(no_match(data.key, PINYIN_ANNOTATION))

    @pa.check(*TEXT_FIELDS, name="no_traditional_chars", error="Traditional character not converted")
    def no_traditional_chars(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(no_match(data.key, traditional_class()))

    @pa.check(
        *PEOPLE_FIELDS,
        name="person_names",
        error="a name is not 2-4 Han characters (or Han parts joined by ·)",
    )
    def person_names(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(all_names_valid(data.key))

    @pa.check(
        "event_date", name="event_date_in_news_range", error=f"not between {EARLIEST_NEWS_DATE} and today"
    )
    def event_date_in_news_range(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(date_in_news_range(data.key))

    @pa.dataframe_check(name="id_matches_doc_and_seq", error="article_id is not <doc_id[:16]>-a<seq>")
    def id_matches_doc_and_seq(cls, data: pa.PolarsData) -> pl.LazyFrame:
        expected = pl.col("doc_id").str.slice(0, 16) + "-a" + pl.col("seq").cast(pl.String).str.zfill(3)
        return data.lazyframe.select(pl.col("article_id") == expected)

    class Config:
        strict = True
