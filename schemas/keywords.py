"""The `article_keywords` contract: the top TF-IDF words of each article."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from flows.steps.tokenize import KEYWORDS_PER_ARTICLE
from schemas.checks import ARTICLE_ID, SPACE_OR_CONTROL, no_match


class ArticleKeywordModel(pa.DataFrameModel):
    article_id: str = pa.Field(str_matches=ARTICLE_ID)
    rank: pl.Int32 = pa.Field(ge=1, le=KEYWORDS_PER_ARTICLE)
    keyword: str = pa.Field(str_length={"min_value": 2})
    weight: pl.Float64 = pa.Field(gt=0)

    @pa.check(
        "keyword",
        name="keyword_has_no_space_or_control",
        error="whitespace or control character in a keyword",
    )
    def keyword_has_no_space_or_control(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(no_match(data.key, SPACE_OR_CONTROL))

    @pa.dataframe_check(name="rank_unique_per_article", error="two keywords of an article share a rank")
    def rank_unique(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~pl.struct("article_id", "rank").is_duplicated())

    @pa.dataframe_check(name="keyword_unique_per_article", error="a keyword appears twice in an article")
    def keyword_unique(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~pl.struct("article_id", "keyword").is_duplicated())

    class Config:
        strict = True
