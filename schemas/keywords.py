from __future__ import annotations

import pandera.polars as pa
import polars as pl

from flows.steps.tokenize import KEYWORDS_PER_ARTICLE


class ArticleKeywordModel(pa.DataFrameModel):
    article_id: str = pa.Field(str_matches=r"^[0-9a-f]{16}-a\d{3}$")
    rank: pl.Int32 = pa.Field(ge=1, le=KEYWORDS_PER_ARTICLE)
    keyword: str = pa.Field(str_length={"min_value": 2})
    weight: pl.Float64 = pa.Field(gt=0)

    @pa.dataframe_check(name="rank_unique_per_article")
    def rank_unique(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~pl.struct("article_id", "rank").is_duplicated())

    @pa.dataframe_check(name="keyword_unique_per_article")
    def keyword_unique(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~pl.struct("article_id", "keyword").is_duplicated())

    class Config:
        strict = True
