"""Full-text search: BM25 over the jieba words (the `search_articles` macro), with snippets.

The query is cut by the same tokenizer (and user dictionary) as the pages, so its words
are the words stored in `tokens`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import duckdb

from flows.steps.tokenize import segment_words

SNIPPET_CHARS = 60
MARK_OPEN, MARK_CLOSE = "【", "】"


@dataclass(frozen=True)
class Hit:
    article_id: str
    title: str | None
    day: dt.date | None
    score: float
    matched: list[str]
    snippet: str


def search(con: duckdb.DuckDBPyConnection, query: str, limit: int = 10) -> list[Hit]:
    """The best `limit` articles for `query`, best first."""
    words = segment_words(query)
    if not words:
        return []
    rows = con.execute(
        """
        SELECT s.article_id, a.title, a.day, s.score, s.matched
        FROM search_articles($words::VARCHAR[]) s
        JOIN article_days a USING (article_id)
        ORDER BY s.score DESC, s.article_id
        LIMIT $limit
        """,
        {"words": words, "limit": limit},
    ).fetchall()
    if not rows:
        return []
    texts: dict[str, list[str]] = {}
    for article_id, text in con.execute(
        "SELECT article_id, text FROM clean_paragraphs WHERE list_contains($ids, article_id) ORDER BY article_id, seq",
        {"ids": [r[0] for r in rows]},
    ).fetchall():
        texts.setdefault(article_id, []).append(text)
    return [
        Hit(aid, title, day, score, matched, snippet(texts.get(aid, []) or [title or ""], matched))
        for aid, title, day, score, matched in rows
    ]


def snippet(paragraphs: list[str], terms: list[str], width: int = SNIPPET_CHARS) -> str:
    """About `width` characters of the paragraph with most hits, from a little before the first hit.

    Hits are marked 【like this】; an ellipsis shows where the text goes on.
    """
    best = max(paragraphs, key=lambda p: sum(p.count(t) for t in terms), default="")
    hits = [best.find(t) for t in terms if t in best]
    start = max(0, min(hits) - width // 4) if hits else 0
    piece = best[start : start + width]
    if terms:  # one pass, longest first, so a term inside a longer one is not marked twice
        pattern = "|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True))
        piece = re.sub(pattern, lambda m: f"{MARK_OPEN}{m[0]}{MARK_CLOSE}", piece)
    return ("…" if start > 0 else "") + piece + ("…" if start + width < len(best) else "")
