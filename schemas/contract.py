"""Validate a batch against its model; split it into rows to load and rows to quarantine."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandera.polars as pa
import polars as pl

from schemas.articles import ArticleModel
from schemas.documents import DocumentModel
from schemas.keywords import ArticleKeywordModel
from schemas.paragraphs import ParagraphModel
from schemas.tokens import TokenModel

# table name -> (model, key column)
CONTRACTS: dict[str, tuple[type[pa.DataFrameModel], str]] = {
    "documents": (DocumentModel, "doc_id"),
    "articles": (ArticleModel, "article_id"),
    "paragraphs": (ParagraphModel, "paragraph_id"),
    "tokens": (TokenModel, "paragraph_id"),
    "article_keywords": (ArticleKeywordModel, "article_id"),
}

QUARANTINE_SCHEMA = {
    "table_name": pl.String,
    "row_key": pl.String,
    "check_name": pl.String,
    "reason": pl.String,
    "row_json": pl.String,
}


@dataclass
class Validated:
    good: pl.DataFrame
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA rows, one per (row, failed check)


def validate_table(table: str, df: pl.DataFrame) -> Validated:
    """Lazy validation: collect every failure, keep the rows that pass every check.

    A failure without a row index (a missing column, a wrong dtype) fails the whole
    table: that is a bug in the pipeline, not bad data, so it raises.
    """
    model, key = CONTRACTS[table]
    try:
        model.validate(df, lazy=True)
        return Validated(df, pl.DataFrame(schema=QUARANTINE_SCHEMA))
    except pa.errors.SchemaErrors as exc:
        failures = exc.failure_cases
    if failures["index"].null_count():
        schema_level = failures.filter(pl.col("index").is_null())
        raise ValueError(f"{table}: schema contract broken: {schema_level.to_dicts()}")
    bad_index = sorted(set(failures["index"].to_list()))
    indexed = df.with_row_index("__row")
    bad_rows = {row["__row"]: row for row in indexed.filter(pl.col("__row").is_in(bad_index)).to_dicts()}
    records = []
    for f in failures.iter_rows(named=True):
        row = dict(bad_rows[f["index"]])
        row.pop("__row")
        records.append(
            {
                "table_name": table,
                "row_key": None if row.get(key) is None else str(row.get(key)),
                "check_name": f["check"],
                "reason": f"{f['column']}: failed {f['check']} (value: {str(f['failure_case'])[:200]})",
                "row_json": json.dumps(row, ensure_ascii=False, default=str),
            }
        )
    good = indexed.filter(~pl.col("__row").is_in(bad_index)).drop("__row")
    return Validated(good, pl.DataFrame(records, schema=QUARANTINE_SCHEMA))
