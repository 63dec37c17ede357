"""Turn a batch of parsed documents into the warehouse's table shapes (polars frames)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from flows.steps.model import ParsedDocument

DOCUMENT_SCHEMA = {
    "doc_id": pl.String,
    "path": pl.String,
    "size_bytes": pl.Int64,
    "mtime_ns": pl.Int64,
    "encoding": pl.String,
    "script": pl.String,
    "source": pl.String,
    "published_at": pl.Datetime("us"),
    "editor": pl.String,
    "status": pl.String,
    "reject_reason": pl.String,
    "retryable": pl.Boolean,
}
ARTICLE_SCHEMA = {
    "article_id": pl.String,
    "doc_id": pl.String,
    "seq": pl.Int32,
    "kind": pl.String,
    "title": pl.String,
    "subtitle": pl.String,
    "kicker": pl.String,
    "byline": pl.String,
    "reporters": pl.List(pl.String),
    "correspondents": pl.List(pl.String),
    "photographers": pl.List(pl.String),
    "event_date": pl.Date,
    "chars": pl.Int32,
}
PARAGRAPH_SCHEMA = {
    "paragraph_id": pl.String,
    "article_id": pl.String,
    "doc_id": pl.String,
    "seq": pl.Int32,
    "text": pl.String,
    "text_raw": pl.String,
    "chars": pl.Int32,
    "joined_from": pl.Int32,
    "quality_flags": pl.List(pl.String),
}


def article_id(doc_id: str, seq: int) -> str:
    return f"{doc_id[:16]}-a{seq:03d}"


def paragraph_id(doc_id: str, article_seq: int, seq: int) -> str:
    return f"{doc_id[:16]}-a{article_seq:03d}-p{seq:03d}"


def documents_frame(docs: list[ParsedDocument]) -> pl.DataFrame:
    rows = [
        {
            "doc_id": d.file.doc_id,
            "path": d.file.path,
            "size_bytes": d.file.size_bytes,
            "mtime_ns": d.file.mtime_ns,
            "encoding": d.encoding,
            "script": d.script,
            "source": d.meta.source,
            "published_at": d.meta.published_at,
            "editor": d.meta.editor,
            "status": "rejected" if d.rejected else "loaded",
            "reject_reason": d.file.reject_reason,
            "retryable": d.file.retryable,
        }
        for d in docs
    ]
    return pl.DataFrame(rows, schema=DOCUMENT_SCHEMA)


def articles_frame(docs: list[ParsedDocument]) -> pl.DataFrame:
    rows = [
        {
            "article_id": article_id(d.file.doc_id, a.seq),
            "doc_id": d.file.doc_id,
            "seq": a.seq,
            "kind": a.kind,
            "title": a.title,
            "subtitle": a.subtitle,
            "kicker": a.kicker,
            "byline": a.byline,
            "reporters": a.reporters,
            "correspondents": a.correspondents,
            "photographers": a.photographers,
            "event_date": a.event_date,
            "chars": sum(len(p.text) for p in a.paragraphs),
        }
        for d in docs
        if not d.rejected
        for a in d.articles
    ]
    return pl.DataFrame(rows, schema=ARTICLE_SCHEMA)


def paragraphs_frame(docs: list[ParsedDocument]) -> pl.DataFrame:
    rows = [
        {
            "paragraph_id": paragraph_id(d.file.doc_id, a.seq, seq),
            "article_id": article_id(d.file.doc_id, a.seq),
            "doc_id": d.file.doc_id,
            "seq": seq,
            "text": p.text,
            "text_raw": p.text_raw,
            "chars": len(p.text),
            "joined_from": p.joined_from,
            "quality_flags": p.flags,
        }
        for d in docs
        if not d.rejected
        for a in d.articles
        for seq, p in enumerate(a.paragraphs)
    ]
    return pl.DataFrame(rows, schema=PARAGRAPH_SCHEMA)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
