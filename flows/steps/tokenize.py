"""Tokenize: jieba words of the text that search and keywords need, and keywords per article.

jieba is the slowest stage of the pipeline (~0.6 MB/s per core), so every text is cut
exactly once: the keywords are TF-IDF weights computed from the words already cut,
with jieba's own IDF table, instead of `jieba.analyse.extract_tags`, which would cut
the text a second time.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import polars as pl

if TYPE_CHECKING:
    import jieba

    from flows.steps.lexicon import Lexicon

# The region's places and organisations, loaded before any text is cut: without it
# jieba splits 吴店镇 into 吴店/镇 and 胡集镇 into 胡/集镇.
USER_DICT = Path(__file__).resolve().parents[2] / "warehouse" / "dict" / "userdict.txt"
# jieba itself is imported where text is cut: importing it loads its HMM tables (~60 MB),
# which the flow's own process does not need when process workers cut the words.
JIEBA_DIR = Path(importlib.util.find_spec("jieba").origin).parent
JIEBA_DICT = JIEBA_DIR / "dict.txt"
IDF_FILE = JIEBA_DIR / "analyse" / "idf.txt"
KEYWORDS_PER_ARTICLE = 10

TOKEN_SCHEMA = {"paragraph_id": pl.String, "article_id": pl.String, "pos": pl.Int32, "word": pl.String}
KEYWORD_SCHEMA = {"article_id": pl.String, "rank": pl.Int32, "keyword": pl.String, "weight": pl.Float64}
IDF_SCHEMA = {"word": pl.String, "idf": pl.Float64}
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


class Cutter(Protocol):
    """What cuts a text into words: the pipeline's `segmenter()`, or a jieba tokenizer."""

    def lcut(self, text: str) -> list[str]: ...


def segmenter() -> Lexicon:
    """What the pipeline cuts words with: the words of `regional_tokenizer`, from a
    `Lexicon` (flows/steps/lexicon.py) kept on disk (~5 MB in each process instead of
    jieba's ~65 MB dict), with jieba-rs cutting the texts and runs it cuts as jieba does
    (+33 MB; ~14x as fast as jieba in all: `bench.tokenize_bench`).

    Made once per process, under a lock: the thread runner's tokenize tasks ask for it at
    once, and rjieba refuses a word added while another thread cuts ("Already borrowed").
    """
    with _SEGMENTER_LOCK:
        return _segmenter()


_SEGMENTER_LOCK = threading.Lock()


@functools.cache
def _segmenter() -> Lexicon:
    cut = regional_lexicon()
    cut.fast_runs = rust_jieba_with_user_dictionary()
    return cut


def regional_lexicon() -> Lexicon:
    """A `Lexicon` of `regional_tokenizer`'s words, cutting every run itself: jieba's words
    exactly. Opened from its cache, built there the first time."""
    from flows.steps import lexicon

    return lexicon.cached(lexicon.default_cache_root(), (JIEBA_DICT, USER_DICT), jieba_with_user_dictionary)


@functools.cache
def rust_jieba_with_user_dictionary() -> Callable[[str], list[str]]:
    """jieba-rs's precise cut (HMM on) with the user dictionary loaded as jieba loads it.

    rjieba's own tokenizer, the one it builds on import: another would cost 24 MB more.
    Its words are added once per process: a word added again adds its frequency to the
    total again (as in jieba), and every word's probability moves.
    """
    import jieba
    import rjieba

    for line in filter(None, map(str.strip, USER_DICT.read_text(encoding="utf-8").splitlines())):
        # jieba's own parse of a line, frequency included: `user_dictionary()` reads the
        # file too, for the flow's process, which does not import jieba.
        word, freq, tag = jieba.re_userdict.match(line).groups()
        # No frequency: jieba-rs suggests one, as jieba does.
        rjieba.add_word(word, int(freq) if freq else None, tag.strip() if tag else None)
    return rjieba.cut


@functools.cache
def regional_tokenizer() -> jieba.Tokenizer:
    """jieba itself with the user dictionary: the reference `segmenter()` cuts as."""
    return jieba_with_user_dictionary()


def jieba_with_user_dictionary(user_dict: Path = USER_DICT) -> jieba.Tokenizer:
    """A new jieba tokenizer with `user_dict` loaded (what a `Lexicon` is built from)."""
    tokenizer = plain_tokenizer()
    tokenizer.load_userdict(str(user_dict))
    return tokenizer


def plain_tokenizer() -> jieba.Tokenizer:
    """jieba without the user dictionary (what segmentation would be without it)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


# A word holds at least one letter or digit (str.isalnum: Python's `\w` is that or "_");
# whitespace and punctuation-only tokens do not. `segment_words` (a search query) tests
# its few tokens one by one; `tokenize_rows` tests all words of its texts at once in
# polars, with the same set of characters (`_word_class`).
_WORD = re.compile(r"[^\W_]")


@functools.cache
def _word_class() -> str:
    r"""`_WORD` as a character class of explicit ranges, for polars' (Rust) regex engine.

    Rust's `\w` is not Python's: it takes combining marks and connector punctuation,
    leaves out numbers such as ① and ½, and follows another Unicode version. So the class
    is built from Python itself: the runs of code points `_WORD` matches, one range each
    (~730 ranges, 0.03 s once per process). Equal to `_WORD` on every code point by
    construction; tests/test_tokenize.py checks it on all of them.
    """
    # Every code point of planes 0-3 once, in order (surrogates cannot be in a polars
    # string). Letters and digits end there (U+3134A in Unicode 14); planes 4-16 hold
    # unassigned points, tags, variation selectors and private use, none of them `_WORD`.
    every_char = "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x40000)))
    ranges = (
        f"\\x{{{ord(every_char[m.start()]):X}}}-\\x{{{ord(every_char[m.end() - 1]):X}}}"
        for m in re.finditer(_WORD.pattern + "+", every_char)
    )
    return "[" + "".join(ranges) + "]"


def segment_words(text: str, cutter: Cutter | None = None) -> list[str]:
    """Words of a text in order, without whitespace and punctuation-only tokens."""
    cut = (cutter or segmenter()).lcut(text)
    return [w for w in cut if _WORD.search(w)]


WORD_LIST_SCHEMA = {"paragraph_id": pl.String, "article_id": pl.String, "words": pl.List(pl.String)}

# Texts are cut about this many characters at a time, and each batch's words made a list
# column before the next batch is cut: jieba hands every word back as a Python string
# (~60-80 bytes for one or two characters), about 15 times the text it was cut from.
CUT_BATCH_CHARS = 1 << 17
_SEPARATOR = "\x1f"  # ASCII's unit separator: whitespace to jieba


def cut_word_lists(rows: pl.DataFrame, cutter: Cutter | None = None) -> pl.DataFrame:
    """rows(paragraph_id, article_id, text) -> one row per text, its words in order (`words`).

    The words of `segment_words`; a text that yields no word yields no row. Checked by
    their contract so, one row per text (~80x fewer rows than one per word), then made
    the warehouse's `tokens` rows by `words_of`, `pos` being the word's index in its list.

    Only jieba runs per text in Python; the words are filtered column-wise, all of a batch
    at once. Built as lists from the start, not as one row per word (its ids repeated
    per word) grouped back into lists: a worker's tokenize task on a 4 MB part rose its
    memory by 131-136 MB that way, by 92-110 MB now (`bench.tokenize_memory --part-mb 4`).
    """
    cut = (cutter or segmenter()).lcut
    texts = rows["text"]
    # Each text's words joined by a separator and split again in polars: twice as fast as
    # polars reading lists of Python strings. A separator in a text is a word of its own
    # (jieba yields whitespace one character at a time), split into empty strings, and
    # neither passes the word filter below, so the words are the same.
    batches = [
        pl.Series(
            "words",
            [_SEPARATOR.join(cut(text)) for text in texts.slice(start, stop - start).to_list()],
            pl.String,
        ).str.split(_SEPARATOR)
        for start, stop in _runs_of_chars(texts.str.len_chars().to_list(), CUT_BATCH_CHARS)
    ]
    words = pl.concat(batches) if batches else pl.Series("words", [], pl.List(pl.String))
    return (
        rows.select("paragraph_id", "article_id")
        .with_columns(words.list.eval(pl.element().filter(pl.element().str.contains(_word_class()))))
        .filter(pl.col("words").list.len() > 0)
        .cast(WORD_LIST_SCHEMA)
    )


def _runs_of_chars(lengths: list[int], max_chars: int) -> Iterator[tuple[int, int]]:
    """(start, stop) of consecutive texts of about `max_chars` characters together."""
    start, chars = 0, 0
    for i, n in enumerate(lengths):
        chars += n
        if chars >= max_chars:
            yield start, i + 1
            start, chars = i + 1, 0
    if start < len(lengths):
        yield start, len(lengths)


def words_of(lists: pl.DataFrame) -> pl.DataFrame:
    """Word lists (`cut_word_lists`) -> tokens(paragraph_id, article_id, pos, word), one row per word."""
    return (
        lists.select(
            "paragraph_id",
            "article_id",
            pl.int_ranges(pl.col("words").list.len(), dtype=pl.Int32).alias("pos"),
            pl.col("words").alias("word"),
        )
        .explode("pos", "word")
        .cast(TOKEN_SCHEMA)
    )


def tokenize_rows(rows: pl.DataFrame, cutter: Cutter | None = None) -> pl.DataFrame:
    """rows(paragraph_id, article_id, text) -> tokens(paragraph_id, article_id, pos, word)."""
    return words_of(cut_word_lists(rows, cutter))


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
    """jieba's IDF table (word, idf) and its median, the IDF of words it does not list.

    Read line by line, not with `pl.read_csv`: its parallel reader left a worker 30 MB
    larger for a table of 4 MB, against 11 MB this way (a worker keeps the table for its
    life).
    """
    first: dict[str, float] = {}
    for line in IDF_FILE.read_text(encoding="utf-8").splitlines():
        word, _, idf = line.partition(" ")
        first.setdefault(word, float(idf))  # a word listed twice keeps its first IDF
    table = pl.DataFrame({"word": list(first), "idf": list(first.values())}, schema=IDF_SCHEMA)
    return table, float(table["idf"].median())


# Two or more characters (jieba's own filter), some Han, no digits (dates and amounts out).
_KEYWORD_CANDIDATE = (
    (pl.col("word").str.len_chars() >= 2)
    & pl.col("word").str.contains(r"\p{Han}")
    & ~pl.col("word").str.contains(r"\d")
)


def article_keywords(tokens: pl.DataFrame, top_n: int = KEYWORDS_PER_ARTICLE) -> pl.DataFrame:
    """Top TF-IDF words per article from its tokens (title and unique paragraphs).

    The same weight as `jieba.analyse.extract_tags`: count / candidate words of the
    article * IDF, with the median IDF for words the table does not list. Ranked by
    weight, then word; ties at the cut take the first words.
    """
    if tokens.height == 0:
        return pl.DataFrame(schema=KEYWORD_SCHEMA)
    idf, median_idf = _idf()
    # The article's total joined in, not `sum().over()`: polars computed that window a ulp
    # differently with one article than with many, so a weight depended on the batch.
    weight = pl.col("count") / pl.col("total") * pl.col("idf").fill_null(median_idf)
    counts = tokens.lazy().filter(_KEYWORD_CANDIDATE).group_by("article_id", "word").len("count")
    totals = counts.group_by("article_id").agg(pl.col("count").sum().alias("total"))
    return (
        counts.join(totals, on="article_id")
        .join(idf.lazy(), on="word", how="left")
        .with_columns(weight.alias("weight"))
        # Only words as heavy as the article's n-th heaviest can rank within the n, so the
        # sort by (article, weight, word) runs on ~5 % of the (article, word) pairs.
        .filter(pl.col("weight") >= pl.col("weight").top_k(top_n).min().over("article_id"))
        .sort(["article_id", "weight", "word"], descending=[False, True, False])
        .with_columns(pl.int_range(1, pl.len() + 1).over("article_id").cast(pl.Int32).alias("rank"))
        .filter(pl.col("rank") <= top_n)
        .select("article_id", "rank", pl.col("word").alias("keyword"), "weight")
        .collect()
    )
