from __future__ import annotations

import pandera.polars as pa
import polars as pl


class ArticleModel(pa.DataFrameModel):
    article_id: str = pa.Field(unique=True, str_matches=r"^[0-9a-f]{16}-a\d{3}$")
    doc_id: str = pa.Field(str_matches=r"^[0-9a-f]{64}$")
    seq: pl.Int32 = pa.Field(ge=0)
    kind: str = pa.Field(isin=["news", "photo", "section"])
    title: str = pa.Field(nullable=True)
    subtitle: str = pa.Field(nullable=True)
    kicker: str = pa.Field(nullable=True)
    byline: str = pa.Field(nullable=True)
    reporters: pl.List(pl.String) = pa.Field(nullable=True)
    correspondents: pl.List(pl.String) = pa.Field(nullable=True)
    photographers: pl.List(pl.String) = pa.Field(nullable=True)
    event_date: pl.Date = pa.Field(nullable=True)
    chars: pl.Int32 = pa.Field(ge=0)

    class Config:
        strict = True
