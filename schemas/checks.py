"""What the data contract allows: id shapes, clean-text rules, names and dates.

Shared by the table models so one rule has one definition. Patterns are Rust-regex
(polars) syntax.
"""

from __future__ import annotations

import datetime as dt
import functools

import polars as pl

from flows.steps.clean import PINYIN_READING, traditional_only_chars

# --- ids (derived from content, see flows/steps/tables.py) ----------------------------
DOC_ID = r"^[0-9a-f]{64}$"  # sha256 hex of the file's bytes, or a synthetic one (discover)
ARTICLE_ID = r"^[0-9a-f]{16}-a\d{3,}$"
PARAGRAPH_ID = r"^[0-9a-f]{16}-a\d{3,}-p\d{3,}$"
NORM_HASH = r"^[0-9a-f]{32}$"

# --- clean text ------------------------------------------------------------------------
# Control characters (C0 and C1; tab and newline too, a paragraph is one line) and the
# private-use areas (BMP and planes 15-16), where glyphs lost in transmission end up.
CONTROL_OR_PRIVATE = r"[\p{Cc}\p{Co}]"
# A word (tokens, keywords) is one unit of text: no whitespace inside it either.
SPACE_OR_CONTROL = r"[\s\p{Cc}\p{Co}]"
# Polars' regex engine has no look-behind: match the Han character with its reading.
PINYIN_ANNOTATION = r"\p{Han}" + PINYIN_READING

# --- people ----------------------------------------------------------------------------
# A Chinese name is 2-4 Han characters (compound surnames such as 欧阳 included).
# Documented exception: transliterated names (ethnic-minority or foreign people), written
# as Han parts joined by a middle dot, e.g. 买买提·艾力, up to 12 characters in all.
PERSON_NAME = r"^(?:\p{Han}{2,4}|\p{Han}{1,6}(?:·\p{Han}{1,6})+)$"
PERSON_NAME_MAX = 12

# --- dates -----------------------------------------------------------------------------
# The oldest paper among our sources is 大众日报 (Dazhong Daily), first issue 1 January
# 1939: no page, and no event it reports with a date we infer, can be older.
EARLIEST_NEWS_DATE = dt.date(1939, 1, 1)
# The papers are in China (UTC+8): "today" is China's date, so a page published just
# after midnight there is not "in the future" on a UTC clock.
CHINA_TZ = dt.timezone(dt.timedelta(hours=8))


def today_in_china() -> dt.date:
    return dt.datetime.now(CHINA_TZ).date()


@functools.cache
def traditional_class() -> str:
    """A regex character class of the Traditional-only characters."""
    return "[" + "".join(sorted(traditional_only_chars())) + "]"


# --- expressions the models use (True = the value passes; null values pass) ------------


def no_match(column: str | pl.Expr, pattern: str) -> pl.Expr:
    """True where the column (a name, or an expression such as a list's `pl.element()`)
    does not match `pattern`; a null matches nothing."""
    value = pl.col(column) if isinstance(column, str) else column
    return ~value.str.contains(pattern).fill_null(False)


def not_blank(column: str) -> pl.Expr:
    return (pl.col(column).str.strip_chars().str.len_chars() > 0).fill_null(True)


def date_in_news_range(column: str) -> pl.Expr:
    today = today_in_china()
    value = pl.col(column).cast(pl.Date)
    return value.is_between(pl.lit(EARLIEST_NEWS_DATE), pl.lit(today)).fill_null(True)


def all_names_valid(column: str) -> pl.Expr:
    names = pl.col(column).list.eval(
        pl.element().str.contains(PERSON_NAME) & (pl.element().str.len_chars() <= PERSON_NAME_MAX)
    )
    return names.list.all().fill_null(True)
