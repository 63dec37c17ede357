"""The data contract: validate a run's tables, split them into rows to load and rows to quarantine.

Every table goes through its Pandera model with lazy validation (all failures of the
batch collected), plus foreign-key checks against the rows of the batch that passed and
the keys the warehouse already holds. Tables are checked parents first, so the children
of a quarantined row fail their foreign key and follow it into quarantine:

- a document that breaks the contract stays in `documents` as `rejected` (its reason
  says which rule), so the next run does not read it again; its articles follow it;
- an article quarantined takes its paragraphs and its words (tokens) with it;
- a paragraph quarantined takes its words, and every duplicate whose `dup_of` points at
  it: a duplicate is stored as a pointer to its kept copy, and a pointer to a row that
  is not in the warehouse would be a dangling reference. (Promoting the duplicate to
  kept copy instead would need its words, which tokenize only computes for kept copies.)

Quarantine rows: one per bad row (for `tokens`, one per text's words; for
`article_keywords`, one per article's keywords), with every
check it failed, a reason a person reads, and the row as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import pandera.polars as pa
import polars as pl

from schemas.articles import ArticleModel
from schemas.documents import DocumentModel
from schemas.keywords import ArticleKeywordModel
from schemas.paragraphs import ParagraphModel
from schemas.tokens import WordListModel


@dataclass(frozen=True)
class ForeignKey:
    column: str
    parent: str  # parent table
    parent_column: str


@dataclass(frozen=True)
class Contract:
    model: type[pa.DataFrameModel]
    key: str
    foreign_keys: tuple[ForeignKey, ...] = ()
    # Rows sharing a key are quarantined together as one record (the words of a paragraph).
    group_by_key: bool = False


CONTRACTS: dict[str, Contract] = {
    "documents": Contract(DocumentModel, "doc_id"),
    "articles": Contract(ArticleModel, "article_id", (ForeignKey("doc_id", "documents", "doc_id"),)),
    "paragraphs": Contract(
        ParagraphModel,
        "paragraph_id",
        (
            ForeignKey("article_id", "articles", "article_id"),
            ForeignKey("dup_of", "paragraphs", "paragraph_id"),
        ),
    ),
    "tokens": Contract(  # one row per text: its words as a list (schemas/tokens.py)
        WordListModel,
        "paragraph_id",
        (
            ForeignKey("article_id", "articles", "article_id"),
            ForeignKey("paragraph_id", "paragraphs", "paragraph_id"),  # or an article's title row
        ),
        group_by_key=True,
    ),
    "article_keywords": Contract(
        ArticleKeywordModel,
        "article_id",
        (ForeignKey("article_id", "articles", "article_id"),),
        group_by_key=True,
    ),
}
# Parents before children: a child is checked against the parents that passed.
TABLE_ORDER = ("documents", "articles", "paragraphs", "tokens", "article_keywords")
# The tables of record; tokens and keywords are derived from paragraph text and do not count.
RECORD_TABLES = ("documents", "articles", "paragraphs")

QUARANTINE_SCHEMA = {
    "table_name": pl.String,
    "row_key": pl.String,
    "check_name": pl.String,
    "reason": pl.String,
    "row_json": pl.String,
}

# (table, column, values) -> the values the warehouse already holds in table.column
# The words of an article's title are stored under the paragraph id `<article_id>-title`.
TITLE_ROW = "-title"
StoredKeys = Callable[[str, str, list[str]], set[str]]


def no_stored_keys(table: str, column: str, values: list[str]) -> set[str]:
    return set()


@dataclass
class Validated:
    good: pl.DataFrame
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA rows, one per bad row


@dataclass
class ValidatedBatch:
    tables: dict[str, pl.DataFrame]
    quarantine: pl.DataFrame
    # documents rejected by the contract (they are also in tables["documents"] as rejected)
    rejected_doc_ids: set[str] = field(default_factory=set)

    def failed_rows(self) -> int:
        """Quarantined rows of the tables of record."""
        return self.quarantine.filter(pl.col("table_name").is_in(RECORD_TABLES)).height


# --- one table ---------------------------------------------------------------------------


def _fk_check(fk: ForeignKey, allowed: Collection[str]) -> pa.Check:
    allowed_series = pl.Series(sorted(allowed), dtype=pl.String)

    def exists(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).is_in(allowed_series.implode()).fill_null(True))

    return pa.Check(exists, name=f"fk_{fk.column}", error=f"fk:{fk.parent}.{fk.parent_column}")


def _schema(contract: Contract, allowed: dict[str, Collection[str]]) -> pa.DataFrameSchema:
    schema = contract.model.to_schema()
    for fk in contract.foreign_keys:
        if fk.column in allowed:
            column = schema.columns[fk.column]
            schema = schema.update_column(
                fk.column, checks=[*column.checks, _fk_check(fk, allowed[fk.column])]
            )
    return schema


def _check_names(schema: pa.DataFrameSchema) -> dict[str, str]:
    """Pandera reports a check by its `error` text when it has one: map it back to the name."""
    names = {c.error: c.name for c in schema.checks if c.error}
    for column in schema.columns.values():
        names.update({c.error: c.name for c in column.checks if c.error})
    return names


# How pandera names its built-in checks -> words.
_BUILTIN_REASONS = {
    "field_uniqueness": "appears more than once in the batch",
    "not_nullable": "is missing",
    "str_matches": "is not well-formed",
    "str_length": "is empty",
    "greater_than_or_equal_to": "is too small",
    "greater_than": "is too small",
    "less_than_or_equal_to": "is too large",
    "isin": "is not an allowed value",
}


def _describe(
    table: str, failure: dict, names: dict[str, str], quarantined: dict[str, set[str]]
) -> tuple[str, str]:
    """(check name, reason) of one pandera failure case."""
    check, column, value = failure["check"], failure["column"], failure["failure_case"]
    shown = str(value)[:120]
    if check.startswith("fk:"):
        parent = check[3:].split(".")[0]
        name = f"fk_{column}"
        title_of = str(value).removesuffix("-title") if str(value).endswith("-title") else None
        if value in quarantined.get(parent, set()) or title_of in quarantined.get("articles", set()):
            return name, f"{column} {shown}: that {parent} row was quarantined or rejected in this run"
        return name, f"{column} {shown} is neither in this batch nor in the warehouse's {parent}"
    if check in names:
        where = "row" if column == table or failure.get("schema_context") == "DataFrameSchema" else column
        return names[check], f"{where}: {check}" + ("" if where == "row" else f" ({shown})")
    builtin = check.split("(")[0]
    words = _BUILTIN_REASONS.get(builtin, f"failed {check}")
    return builtin, f"{column} {words} ({shown})" + (f" [{check}]" if builtin != check else "")


def validate_table(
    table: str,
    df: pl.DataFrame,
    allowed: dict[str, Collection[str]] | None = None,
    quarantined: dict[str, set[str]] | None = None,
) -> Validated:
    """Lazy validation: collect every failure, keep the rows that pass every check.

    `allowed` maps a foreign-key column to the parent keys it may take. A failure
    without a row index (a missing column, a wrong dtype) fails the whole table: that is
    a bug in the pipeline, not bad data, so it raises.
    """
    contract = CONTRACTS[table]
    schema = _schema(contract, allowed or {})
    try:
        schema.validate(df, lazy=True)
        return Validated(df, pl.DataFrame(schema=QUARANTINE_SCHEMA))
    except pa.errors.SchemaErrors as exc:
        failures = exc.failure_cases
    if failures["index"].null_count():
        schema_level = failures.filter(pl.col("index").is_null())
        raise ValueError(f"{table}: schema contract broken: {schema_level.to_dicts()}")
    names = _check_names(schema)
    by_row: dict[int, list[tuple[str, str]]] = {}
    for f in failures.iter_rows(named=True):
        by_row.setdefault(f["index"], []).append(_describe(table, f, names, quarantined or {}))
    indexed = df.with_row_index("__row")
    bad = indexed.filter(pl.col("__row").is_in(list(by_row)))
    good = indexed.filter(~pl.col("__row").is_in(list(by_row))).drop("__row")
    return Validated(good, _quarantine_rows(table, contract, bad, by_row))


def _quarantine_rows(
    table: str, contract: Contract, bad: pl.DataFrame, by_row: dict[int, list[tuple[str, str]]]
) -> pl.DataFrame:
    groups: dict[object, dict] = {}
    for row in bad.to_dicts():
        problems = by_row[row.pop("__row")]
        key = row.get(contract.key)
        group_id = key if contract.group_by_key else len(groups)
        g = groups.setdefault(group_id, {"key": key, "checks": {}, "rows": []})
        g["checks"].update(problems)  # check name -> reason (first reason kept per check)
        g["rows"].append(row)
    records = [
        {
            "table_name": table,
            "row_key": None if g["key"] is None else str(g["key"]),
            "check_name": ",".join(sorted(g["checks"])),
            "reason": "; ".join(dict.fromkeys(g["checks"].values())),
            "row_json": json.dumps(
                g["rows"] if contract.group_by_key else g["rows"][0], ensure_ascii=False, default=str
            ),
        }
        for g in groups.values()
    ]
    return pl.DataFrame(records, schema=QUARANTINE_SCHEMA)


# --- a whole batch ------------------------------------------------------------------------


def _keys(df: pl.DataFrame, column: str) -> set[str]:
    return set(df[column].drop_nulls().to_list())


def _batch_parent_keys(
    parent: str, child_table: str, child: pl.DataFrame, good: dict[str, pl.DataFrame]
) -> set[str]:
    """Keys of `parent` rows in this batch that a row of `child_table` may reference.

    A batch may lack the parent table: a wave's words are checked after its rows of record
    were staged (flows/ingest.py), so their parents are all looked up as stored.
    """
    if parent == child_table:  # a self-reference: the rows still standing
        return _keys(child, CONTRACTS[parent].key)
    if parent not in good:
        return set()
    if parent == "documents":
        return _keys(good["documents"].filter(pl.col("status") == "loaded"), "doc_id")
    if parent == "paragraphs":  # tokens: a paragraph, or the title row of an article
        articles = good["articles"]["article_id"] if "articles" in good else []
        return _keys(good["paragraphs"], "paragraph_id") | {a + TITLE_ROW for a in articles}
    return _keys(good[parent], CONTRACTS[parent].key)


def _stored_parents(parent: str, column: str, wanted: list[str], stored: StoredKeys) -> set[str]:
    """The keys among `wanted` that the warehouse holds; a title row's parent is its article."""
    if parent != "paragraphs":
        return stored(parent, column, wanted)
    titles = [w.removesuffix(TITLE_ROW) for w in wanted if w.endswith(TITLE_ROW)]
    paragraphs = [w for w in wanted if not w.endswith(TITLE_ROW)]
    found = stored(parent, column, paragraphs) if paragraphs else set()
    if titles:
        found |= {a + TITLE_ROW for a in stored("articles", "article_id", titles)}
    return found


def _allowed(
    table: str, frame: pl.DataFrame, good: dict[str, pl.DataFrame], stored: StoredKeys
) -> dict[str, set[str]]:
    """Per foreign-key column: the good batch rows of the parent, plus the keys the warehouse holds."""
    allowed = {}
    for fk in CONTRACTS[table].foreign_keys:
        in_batch = _batch_parent_keys(fk.parent, table, frame, good)
        wanted = sorted(_keys(frame, fk.column) - in_batch)
        allowed[fk.column] = in_batch | (
            _stored_parents(fk.parent, fk.parent_column, wanted, stored) if wanted else set()
        )
    return allowed


def contract_rejected_documents(rows: pl.DataFrame, quarantine: pl.DataFrame) -> pl.DataFrame:
    """Documents that broke the contract, as `rejected` rows that keep only what identifies them.

    Keeping a row makes the next run skip the file (it would break the contract again);
    the quarantine keeps the row as it was.
    """
    reasons = quarantine.select(pl.col("row_key").alias("doc_id"), "reason")
    return (
        rows.join(reasons, on="doc_id", how="inner")
        .with_columns(
            pl.lit("rejected").alias("status"),
            ("breaks the data contract: " + pl.col("reason")).alias("reject_reason"),
            pl.lit(False).alias("retryable"),
            *(
                pl.lit(None, dtype=rows.schema[c]).alias(c)
                for c in ("script", "source", "published_at", "editor")
            ),
        )
        .select(rows.columns)
    )


def validate_batch(tables: dict[str, pl.DataFrame], stored: StoredKeys = no_stored_keys) -> ValidatedBatch:
    """Every table through its contract, parents first; children of bad rows follow them."""
    good: dict[str, pl.DataFrame] = {}
    quarantine: list[pl.DataFrame] = []
    quarantined: dict[str, set[str]] = {}
    rejected_doc_ids: set[str] = set()
    for table in (t for t in TABLE_ORDER if t in tables):
        frame = tables[table]
        while True:
            result = validate_table(table, frame, _allowed(table, frame, good, stored), quarantined)
            quarantine.append(result.quarantine)
            quarantined.setdefault(table, set()).update(_keys(result.quarantine, "row_key"))
            frame = result.good
            self_referencing = any(fk.parent == table for fk in CONTRACTS[table].foreign_keys)
            if not (self_referencing and result.quarantine.height):
                break  # else check again: a row may point at one just quarantined
        if table == "documents" and quarantined["documents"]:
            bad = pl.concat(quarantine).filter(pl.col("table_name") == "documents")
            # A row that cannot even be kept as rejected (a malformed id) stays in quarantine only.
            rejected = validate_table("documents", contract_rejected_documents(tables["documents"], bad)).good
            rejected_doc_ids = _keys(rejected, "doc_id")
            frame = pl.concat([frame, rejected])
        good[table] = frame
    return ValidatedBatch(good, pl.concat([q.cast(QUARANTINE_SCHEMA) for q in quarantine]), rejected_doc_ids)
