"""Tokenize: jieba words of the text that search and keywords need, and keywords per article.

jieba is the slowest stage of the pipeline (~0.6 MB/s per core), so every text is cut
exactly once: the keywords are TF-IDF weights computed from the words already cut,
with jieba's own IDF table, instead of `jieba.analyse.extract_tags`, which would cut
the text a second time.
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path

import jieba
import polars as pl

# The region's places and organisations, loaded before any text is cut: without it
# jieba splits 吴店镇 into 吴店/镇 and 胡集镇 into 胡/集镇.
USER_DICT = Path(__file__).resolve().parents[2] / "warehouse" / "dict" / "userdict.txt"
IDF_FILE = Path(jieba.__file__).parent / "analyse" / "idf.txt"
KEYWORDS_PER_ARTICLE = 10

TOKEN_SCHEMA = {"paragraph_id": pl.String, "article_id": pl.String, "pos": pl.Int32, "word": pl.String}
KEYWORD_SCHEMA = {"article_id": pl.String, "rank": pl.Int32, "keyword": pl.String, "weight": pl.Float64}
LEXICON_SCHEMA = {"word": pl.String, "tag": pl.String, "place_level": pl.String}

# Place level by the name's ending; a bare name in this dictionary (菏泽, 济南) is a city.
_PLACE_LEVELS = (
    ("街道", "township"),
    ("办事处", "township"),
    ("镇", "township"),
    ("乡", "township"),
    ("社区", "village"),
    ("村", "village"),
    ("区", "district"),
    ("县", "district"),
    ("市", "city"),
)


@functools.cache
def _tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    tokenizer.load_userdict(str(USER_DICT))
    return tokenizer


def plain_tokenizer() -> jieba.Tokenizer:
    """jieba without the user dictionary (what segmentation would be without it)."""
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


# A word holds at least one letter or digit (str.isalnum); whitespace and punctuation-only
# tokens do not. One regex search per token: a Python loop over its characters cost 10 %
# of the stage.
_WORD = re.compile(r"[^\W_]")


def segment_words(text: str, tokenizer: jieba.Tokenizer | None = None) -> list[str]:
    """Words of a text in order, without whitespace and punctuation-only tokens."""
    cut = (tokenizer or _tokenizer()).lcut(text)
    return [w for w in cut if _WORD.search(w)]


def tokenize_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """rows(paragraph_id, article_id, text) -> tokens(paragraph_id, article_id, pos, word)."""
    pids, aids, positions, words = [], [], [], []
    for pid, aid, text in rows.select("paragraph_id", "article_id", "text").iter_rows():
        cut = segment_words(text)
        pids += [pid] * len(cut)
        aids += [aid] * len(cut)
        positions.extend(range(len(cut)))
        words += cut
    return pl.DataFrame(
        {"paragraph_id": pids, "article_id": aids, "pos": positions, "word": words}, schema=TOKEN_SCHEMA
    )


def user_dictionary() -> list[tuple[str, str]]:
    """(word, tag) of every entry of the user dictionary, in file order."""
    entries = []
    for line in USER_DICT.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if parts:
            entries.append((parts[0], parts[-1]))
    return entries


def place_level(name: str) -> str:
    for suffix, level in _PLACE_LEVELS:
        if name.endswith(suffix):
            return level
    return "city"


def lexicon_frame() -> pl.DataFrame:
    """The user dictionary as a table; its places (tag ns) are the place list of the views."""
    rows = [(word, tag, place_level(word) if tag == "ns" else None) for word, tag in user_dictionary()]
    return pl.DataFrame(rows, schema=LEXICON_SCHEMA, orient="row")


@functools.cache
def _idf() -> tuple[pl.DataFrame, float]:
    """jieba's IDF table (word, idf) and its median, the IDF of words it does not list."""
    idf = pl.read_csv(
        IDF_FILE,
        separator=" ",
        has_header=False,
        new_columns=["word", "idf"],
        schema_overrides={"word": pl.String, "idf": pl.Float64},
        quote_char=None,
    ).unique("word", keep="first")
    return idf, float(idf["idf"].median())


# Two or more characters (jieba's own filter), some Han, no digits (dates and amounts out).
_KEYWORD_CANDIDATE = (
    (pl.col("word").str.len_chars() >= 2)
    & pl.col("word").str.contains(r"\p{Han}")
    & ~pl.col("word").str.contains(r"\d")
)


def article_keywords(tokens: pl.DataFrame, top_n: int = KEYWORDS_PER_ARTICLE) -> pl.DataFrame:
    """Top TF-IDF words per article from its tokens (title and unique paragraphs).

    The same weight as `jieba.analyse.extract_tags`: count / candidate words of the
    article * IDF, with the median IDF for words the table does not list.
    """
    if tokens.height == 0:
        return pl.DataFrame(schema=KEYWORD_SCHEMA)
    idf, median_idf = _idf()
    counts = tokens.filter(_KEYWORD_CANDIDATE).group_by("article_id", "word").len("count")
    return (
        counts.join(idf, on="word", how="left")
        .with_columns(
            (
                pl.col("count")
                / pl.col("count").sum().over("article_id")
                * pl.col("idf").fill_null(median_idf)
            ).alias("weight")
        )
        .sort(["article_id", "weight", "word"], descending=[False, True, False])
        .with_columns(pl.int_range(1, pl.len() + 1).over("article_id").cast(pl.Int32).alias("rank"))
        .filter(pl.col("rank") <= top_n)
        .select("article_id", "rank", pl.col("word").alias("keyword"), "weight")
    )
