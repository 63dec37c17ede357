from __future__ import annotations

import pandera.polars as pa
import polars as pl


class TokenModel(pa.DataFrameModel):
    paragraph_id: str = pa.Field(str_matches=r"^[0-9a-f]{16}-a\d{3}-(p\d{3}|title)$")
    article_id: str = pa.Field(str_matches=r"^[0-9a-f]{16}-a\d{3}$")
    pos: pl.Int32 = pa.Field(ge=0)
    word: str = pa.Field(str_length={"min_value": 1})

    @pa.dataframe_check(name="position_unique_per_paragraph")
    def position_unique(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~pl.struct("paragraph_id", "pos").is_duplicated())

    class Config:
        strict = True
