"""Tokenize: jieba word segmentation of the text that search and keywords need."""

from __future__ import annotations

import functools
import logging

import jieba
import polars as pl


@functools.cache
def _tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def segment_words(text: str) -> list[str]:
    """Words of a text in order, without whitespace and punctuation-only tokens."""
    return [w for w in _tokenizer().lcut(text) if w.strip() and not _is_punct(w)]


def _is_punct(word: str) -> bool:
    return all(not ch.isalnum() for ch in word)


def tokenize_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """rows(paragraph_id, article_id, text) -> tokens(paragraph_id, article_id, pos, word)."""
    pids, aids, positions, words = [], [], [], []
    for pid, aid, text in rows.select("paragraph_id", "article_id", "text").iter_rows():
        for pos, word in enumerate(segment_words(text)):
            pids.append(pid)
            aids.append(aid)
            positions.append(pos)
            words.append(word)
    return pl.DataFrame(
        {"paragraph_id": pids, "article_id": aids, "pos": positions, "word": words},
        schema={"paragraph_id": pl.String, "article_id": pl.String, "pos": pl.Int32, "word": pl.String},
    )
