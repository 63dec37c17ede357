"""The `tokens` contract: jieba words of unique paragraphs and of article titles.

Checked one text per row, as a run moves the words (`flows.steps.tokenize.cut_word_lists`):
the text's id, its article and its words in order. The load stores them one row per word
(paragraph_id, article_id, pos, word), `pos` being the word's index in the list, so a
text's positions are unique by construction. One row per text also checks each id once,
not once per word (~80 times).
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas.checks import ARTICLE_ID, SPACE_OR_CONTROL, no_match

# A unique paragraph's id, or `<article_id>-title` for the words of an article's title.
TOKEN_SOURCE_ID = r"^[0-9a-f]{16}-a\d{3,}-(?:p\d{3,}|title)$"


class WordListModel(pa.DataFrameModel):
    paragraph_id: str = pa.Field(str_matches=TOKEN_SOURCE_ID, unique=True)
    article_id: str = pa.Field(str_matches=ARTICLE_ID)
    words: list[str]

    @pa.check("words", name="no_empty_word", error="an empty word")
    def no_empty_word(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).list.eval(pl.element().str.len_chars() > 0).list.all())

    @pa.check("words", name="word_has_no_space_or_control", error="whitespace or control character in a word")
    def word_has_no_space_or_control(cls, data: pa.PolarsData) -> pl.LazyFrame:
        clean = no_match(pl.element(), SPACE_OR_CONTROL)
        return data.lazyframe.select(pl.col(data.key).list.eval(clean).list.all())

    @pa.dataframe_check(name="paragraph_of_article", error="paragraph_id does not belong to article_id")
    def paragraph_of_article(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("paragraph_id").str.starts_with(pl.col("article_id") + "-"))

    class Config:
        strict = True
