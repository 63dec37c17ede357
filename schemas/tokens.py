"""The `tokens` contract: jieba words of unique paragraphs and of article titles."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas.checks import ARTICLE_ID, SPACE_OR_CONTROL, no_match

# A unique paragraph's id, or `<article_id>-title` for the words of an article's title.
TOKEN_SOURCE_ID = r"^[0-9a-f]{16}-a\d{3,}-(?:p\d{3,}|title)$"


class TokenModel(pa.DataFrameModel):
    paragraph_id: str = pa.Field(str_matches=TOKEN_SOURCE_ID)
    article_id: str = pa.Field(str_matches=ARTICLE_ID)
    pos: pl.Int32 = pa.Field(ge=0)
    word: str = pa.Field(str_length={"min_value": 1})

    @pa.check("word", name="word_has_no_space_or_control", error="whitespace or control character in a word")
    def word_has_no_space_or_control(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(no_match(data.key, SPACE_OR_CONTROL))

    @pa.dataframe_check(name="position_unique_per_paragraph", error="two words at the same position")
    def position_unique(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~pl.struct("paragraph_id", "pos").is_duplicated())

    @pa.dataframe_check(name="paragraph_of_article", error="paragraph_id does not belong to article_id")
    def paragraph_of_article(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("paragraph_id").str.starts_with(pl.col("article_id") + "-"))

    class Config:
        strict = True
