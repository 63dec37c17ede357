"""The persisted dedup index: history lookups by DuckDB joins, and history rewrites at load.

Tables (warehouse/ddl/002_dedup_index.sql) hold one key row, 16 LSH band rows and the
winnowing anchors of every kept paragraph. A run sends its probe (hashes, band buckets,
anchors) as Arrow tables and gets back only the stored paragraphs that share a hash, a
bucket or most anchors, so memory grows with the batch, not with the warehouse.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from flows.steps.dedup import (
    ANCHOR_MAX_DF,
    ANCHOR_SHARE,
    EMPTY_STORED,
    NORM_VERSION,
    HistoryLookup,
    Probe,
    Stored,
    index_all,
)
from flows.steps.tokenize import article_keywords
from warehouse import db

if TYPE_CHECKING:  # staging imports db, which imports this module
    from warehouse.staging import Staging

INDEX_TABLES = ("dedup_keys", "dedup_bands", "dedup_anchors")
# DuckDB's memory for a wave's history lookups, on top of the flow process; a lookup that
# runs out of it is run again within the second. The scans keep the blocks they read
# cached up to the limit, so each wave's lookups raise the flow process by about the
# limit: with the staging appends, the flow process's highest points during the waves of
# the 1 GB load. The queries' own hash tables grow with the wave, not with the history.
# What needs the most is the containment query against a run's first waves, when few of
# their anchors are common yet: 64 MB was too little for 2 of the 100 MB load's 13 waves
# and 3 of the 1 GB load's 128 while that query materialized the stored rows of the
# probe's anchors, for none since (5 Dec: neither load's waves, `bench.run`); 96 MB has
# held every wave so far. With 64 MB first the flow process's peak during the 1 GB load's
# waves fell by 30-40 MB (with the staging's 48 MB, `warehouse.staging.WRITE_MEMORY_LIMIT`):
# the load took 488 s, against 475-484 s (one run against two, `bench.flow_once`).
LOOKUP_MEMORY_LIMITS = ("64MB", "96MB")
_SHARE = Fraction(ANCHOR_SHARE).limit_denominator(100)
log = logging.getLogger(__name__)


def history_lookup(db_path: str | Path) -> HistoryLookup:
    """A `HistoryLookup` reading the warehouse at `db_path` (read-only, opened per call)."""

    def lookup(probe: Probe) -> Stored:
        if not Path(db_path).exists():
            return EMPTY_STORED
        with db.connect(db_path, read_only=True) as con:
            if not db.has_table(con, "dedup_keys"):
                return EMPTY_STORED
            if not _stale_count(con):
                return query_within_memory(con, probe)
        rebuild_stale(db_path)
        with db.connect(db_path, read_only=True) as con:
            return query_within_memory(con, probe)

    return lookup


def run_history(db_path: str | Path, staging: Staging) -> HistoryLookup:
    """Kept paragraphs of the warehouse and of the run's earlier waves (its staging file).

    A fragment that an earlier wave of the run demoted (a history update with `dup_of`)
    keeps its index rows until the load, in the warehouse or in the staging: it is left
    out of the near and containment candidates, as in one batch, where a fragment once
    inside a complete paragraph is nobody's candidate. Demoted again by a later wave, the
    load met two demotions of it and applied either. Its exact copies still find it: the
    load points them at the paragraph it went into.
    """
    lookups = (history_lookup(db_path), history_lookup(staging.path))

    def lookup(probe: Probe) -> Stored:
        found = [history(probe) for history in lookups]
        demoted = staging.frame(f"SELECT paragraph_id FROM ({demotions('dedup_updates')})")
        keys = pl.concat([f.keys for f in found]).join(demoted, on="paragraph_id", how="anti")
        return Stored(
            # A row's exact copy is kept in one place only: the later copy became a duplicate.
            exact=pl.concat([f.exact for f in found]).group_by("row").agg(pl.col("paragraph_id").min()),
            pairs=pl.concat([f.pairs for f in found]).filter(pl.col("pkey").is_in(keys["pkey"].implode())),
            keys=keys,
        )

    return lookup


def _stale_count(con: duckdb.DuckDBPyConnection) -> int:
    sql = "SELECT count(*) FROM dedup_keys WHERE norm_version <> ?"
    return con.execute(sql, [NORM_VERSION]).fetchall()[0][0]


def rebuild_stale(db_path: str | Path, chunk: int = 50_000) -> int:
    """Re-key every index row made with an older NORM_VERSION, in one transaction, by chunks.

    Runs once after the key definition changes (the next run's lookup calls it); the kept
    paragraphs' stored `norm_version` / `norm_hash` move to the new key with their index rows.
    Returns how many paragraphs were re-keyed.
    """
    with db.connect(db_path) as con:
        stale = con.sql(
            "SELECT paragraph_id FROM dedup_keys WHERE norm_version <> $v ORDER BY paragraph_id",
            params={"v": NORM_VERSION},
        ).pl()
        if stale.height == 0:
            return 0
        con.execute("BEGIN TRANSACTION")
        try:
            for start in range(0, stale.height, chunk):
                con.register("part", stale.slice(start, chunk).to_arrow())
                texts = con.sql(
                    "SELECT paragraph_id, text FROM paragraphs SEMI JOIN part USING (paragraph_id) "
                    "ORDER BY paragraph_id"
                ).pl()
                rows = index_all(texts["paragraph_id"].to_list(), texts["text"])
                con.execute(
                    "CREATE OR REPLACE TEMP TABLE part_keys AS "
                    "SELECT pkey FROM dedup_keys SEMI JOIN part USING (paragraph_id)"
                )
                for table in (*INDEX_TABLES[1:], INDEX_TABLES[0]):
                    con.execute(f"DELETE FROM {table} WHERE pkey IN (SELECT pkey FROM part_keys)")
                for table in INDEX_TABLES:
                    con.register("new_rows", rows[table].to_arrow())
                    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM new_rows")
                    con.unregister("new_rows")
                con.execute(
                    """
                    UPDATE paragraphs p SET norm_version = k.norm_version, norm_hash = k.norm_hash
                    FROM dedup_keys k WHERE k.paragraph_id = p.paragraph_id
                      AND p.paragraph_id IN (SELECT paragraph_id FROM part)
                    """
                )
                con.unregister("part")
            con.execute("DROP TABLE IF EXISTS part_keys")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return stale.height


def query_within_memory(con: duckdb.DuckDBPyConnection, probe: Probe) -> Stored:
    """`query_history` within the first of LOOKUP_MEMORY_LIMITS, or, if DuckDB runs out of
    it (a wave of unusual shape), within the second."""
    first, second = LOOKUP_MEMORY_LIMITS
    try:
        return query_history(con, probe, first)
    except duckdb.OutOfMemoryException as exc:
        log.warning("history lookup out of %s (%s); running it again within %s", first, exc, second)
        return query_history(con, probe, second)


def query_history(con: duckdb.DuckDBPyConnection, probe: Probe, memory_limit: str) -> Stored:
    # The joins scan the whole index once; without a cap DuckDB keeps every scanned block
    # cached (up to 80 % of RAM), so the process would grow with the warehouse.
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.register("probe_hashes", probe.hashes.to_arrow())
    con.register("probe_buckets", probe.buckets.to_arrow())
    con.register("probe_anchors", probe.anchors.to_arrow())
    try:
        exact = con.sql(
            """
            SELECT h.row, min(k.paragraph_id) AS paragraph_id
            FROM probe_hashes h JOIN dedup_keys k USING (norm_hash)
            WHERE k.norm_version = $v
            GROUP BY h.row
            """,
            params={"v": NORM_VERSION},
        ).pl()
        # Two queries, not one: the operators of one query share its memory limit, and as
        # one query they spilled 1 GB to disk and took 2.1 s against the 1 GB load's
        # index, against 1.25 s apart.
        by_bucket = con.sql(
            # A bucket hash already includes its band number (flows/steps/minhash.py), so
            # joining on it alone is exact and much cheaper than on (band, bucket).
            "SELECT DISTINCT b.row, d.pkey FROM probe_buckets b JOIN dedup_bands d ON d.bucket = b.bucket"
        ).pl()
        by_anchor = con.sql(
            f"""
            WITH {_common_anchors(con)},
            -- Anchors held by many stored paragraphs (stock phrases) propose nothing, and do
            -- not count against a probe row either: its share is of its other anchors. Their
            -- stored rows are never fetched: they grow with the history (a wave of 13,000
            -- paragraphs hits 2.5 M against the 100 MB load's index, 25 M against the 1 GB
            -- load's), while a rare anchor has at most max_df.
            probe_rare AS MATERIALIZED (
                SELECT p.row, p.anchor FROM probe_anchors p ANTI JOIN common USING (anchor)
            ),
            rare_n AS (SELECT row, count(*) AS n_rare FROM probe_rare GROUP BY row),
            -- Joined to the stored anchors straight away, the probe's rare anchors the hash
            -- table: not first the stored rows of those anchors apart (0.24 s against 0.38 s
            -- for an 8 MB wave against the 100 MB load's index, the same pairs).
            shared AS (
                SELECT p.row, s.pkey, count(*) AS shared
                FROM probe_rare p JOIN dedup_anchors s USING (anchor)
                GROUP BY p.row, s.pkey
            )
            SELECT s.row, s.pkey
            FROM shared s JOIN rare_n n USING (row) JOIN dedup_keys k USING (pkey)
            -- ANCHOR_SHARE as a fraction: whole numbers compared, not decimals.
            WHERE s.shared * {_SHARE.denominator} >= {_SHARE.numerator} * least(n.n_rare, k.n_anchors)
            """
        ).pl()
        candidates = pl.concat([by_bucket, by_anchor]).unique()
        con.register("cand", candidates.select("pkey").unique().to_arrow())
        keys = con.sql(
            "SELECT pkey, paragraph_id, norm_key FROM dedup_keys SEMI JOIN cand USING (pkey) "
            "WHERE norm_version = $v",
            params={"v": NORM_VERSION},
        ).pl()
        pairs = candidates.filter(pl.col("pkey").is_in(keys["pkey"].implode()))
    finally:
        for name in ("probe_hashes", "probe_buckets", "probe_anchors", "cand"):
            con.unregister(name)
    return Stored(
        exact=exact.cast({"row": pl.Int64}),
        pairs=pairs.cast({"row": pl.Int64, "pkey": pl.Int64}),
        keys=keys.cast({"pkey": pl.Int64}),
    )


# The anchors held by more than ANCHOR_MAX_DF stored paragraphs, kept as rows are staged
# (`add_common_anchors`): a run's staging file has this table, the warehouse does not.
COMMON_ANCHORS = "dedup_common_anchors"


def _common_anchors(con: duckdb.DuckDBPyConnection) -> str:
    """The `common` relation of the anchors lookup: the probe's anchors held by more than
    max_df stored paragraphs.

    Where they are kept (`COMMON_ANCHORS`), read from there. Otherwise they are found by
    counting the stored rows of each of the probe's anchors: against the 1 GB load's
    index (46.3 M rows) that counts 24.0 M rows for the 95,457 common anchors of an 8 MB
    wave, 1.15 s of the lookup's 2.66 s (the rare anchors' rows take 0.18 s).
    """
    if db.has_table(con, COMMON_ANCHORS):
        return f"common AS (SELECT anchor FROM {COMMON_ANCHORS})"
    return f"""common AS MATERIALIZED (
                SELECT anchor
                FROM dedup_anchors SEMI JOIN (SELECT DISTINCT anchor FROM probe_anchors) USING (anchor)
                GROUP BY anchor HAVING count(*) > {int(ANCHOR_MAX_DF)}
            )"""


def add_common_anchors(con: duckdb.DuckDBPyConnection, new_anchors: str) -> None:
    """After rows named by `new_anchors` (a relation with an `anchor` column) were added to
    `dedup_anchors`: add the anchors they made common to `COMMON_ANCHORS`.

    Exact as long as rows are only ever added (a run's staging): an anchor's count grows
    only when rows of it are added, so only those anchors not yet common need counting,
    each of at most max_df stored rows before.
    """
    con.execute(
        f"""
        INSERT INTO {COMMON_ANCHORS}
        SELECT anchor
        FROM dedup_anchors
        SEMI JOIN (SELECT DISTINCT anchor FROM {new_anchors} ANTI JOIN {COMMON_ANCHORS} USING (anchor))
            USING (anchor)
        GROUP BY anchor HAVING count(*) > $max_df
        """,
        {"max_df": ANCHOR_MAX_DF},
    )


# The column by which rows of these tables belong to one paragraph.
_PARAGRAPH_COLUMN = {
    "dedup_keys": "pkey",
    "dedup_bands": "pkey",
    "dedup_anchors": "pkey",
    "tokens": "paragraph_id",
}


def demotions(updates: str) -> str:
    """The demotions among a run's history updates (`updates` names them): the kept
    paragraphs found (almost) wholly inside a longer one, with what they now point at."""
    return f"SELECT paragraph_id, dup_of, similarity, dup_method FROM {updates} WHERE dup_of IS NOT NULL"


def drop_demoted(con: duckdb.DuckDBPyConnection, updates: str, new_keys: str | None) -> None:
    """Before the load inserts anything: index rows and words of the demoted paragraphs go.

    `updates` names the run's history updates; its rows with `dup_of` are kept paragraphs
    (stored, or of an earlier wave of this run) now found (almost) wholly inside a longer
    paragraph of this run. Their rows already in the warehouse are deleted here; the run's
    own rows are left out of the insert (`without_demoted`): inserting rows only to delete
    them in the same transaction cost more memory than DuckDB was allowed.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE dedup_demoted AS {demotions(updates)}")
    run_keys = (
        f" UNION SELECT pkey FROM {new_keys} SEMI JOIN dedup_demoted USING (paragraph_id)" if new_keys else ""
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE dedup_demoted_pkeys AS "
        f"SELECT pkey FROM dedup_keys SEMI JOIN dedup_demoted USING (paragraph_id){run_keys}"
    )
    for table in INDEX_TABLES[1:] + INDEX_TABLES[:1]:
        con.execute(f"DELETE FROM {table} WHERE pkey IN (SELECT pkey FROM dedup_demoted_pkeys)")
    con.execute("DELETE FROM tokens WHERE paragraph_id IN (SELECT paragraph_id FROM dedup_demoted)")


def without_demoted(table: str) -> str:
    """The WHERE clause that keeps a table's rows of demoted paragraphs out of the insert."""
    column = _PARAGRAPH_COLUMN.get(table)
    if column is None:
        return ""
    demoted = "dedup_demoted_pkeys" if column == "pkey" else "dedup_demoted"
    return f" WHERE {column} NOT IN (SELECT {column} FROM {demoted})"


def apply_history_updates(con: duckdb.DuckDBPyConnection, updates: str) -> None:
    """After the insert, in the same transaction: rewrite the paragraphs `updates` names.

    The demoted fragments (`drop_demoted`) become `contained`, whatever pointed at them is
    re-pointed to the complete paragraph (with the fragment's containment as similarity),
    and their articles' keywords are weighed again without their words (as if the fragment
    had been a duplicate from the start). Then every kept paragraph whose cluster changed
    gets its `cluster_size` recounted from the stored rows.
    """
    demoted = "SET dup_status = 'contained', dup_of = d.dup_of, similarity = d.similarity, dup_method = d.dup_method"
    # Two updates, not one with `OR` in its join: DuckDB would compare every pair of rows.
    con.execute(f"UPDATE paragraphs p {demoted} FROM dedup_demoted d WHERE p.paragraph_id = d.paragraph_id")
    con.execute(f"UPDATE paragraphs p {demoted} FROM dedup_demoted d WHERE p.dup_of = d.paragraph_id")
    _refresh_keywords(con)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE dedup_recount AS
        WITH changed AS (SELECT paragraph_id FROM {updates} UNION SELECT dup_of FROM dedup_demoted)
        SELECT c.paragraph_id, 1 + count(m.paragraph_id) AS cluster_size
        FROM changed c LEFT JOIN paragraphs m ON m.dup_of = c.paragraph_id
        GROUP BY c.paragraph_id
        """
    )
    con.execute(
        "UPDATE paragraphs p SET cluster_size = r.cluster_size FROM dedup_recount r "
        "WHERE p.paragraph_id = r.paragraph_id"
    )
    for table in ("dedup_demoted", "dedup_demoted_pkeys", "dedup_recount"):
        con.execute(f"DROP TABLE {table}")


def statuses_as_loaded(con: duckdb.DuckDBPyConnection, paragraphs: str, updates: str) -> dict[str, int]:
    """How many of `paragraphs` (a run's staged rows) the load stores with each `dup_status`.

    A later wave of the run may demote a fragment an earlier wave kept: the load's
    `apply_history_updates` makes it, and whatever pointed at it, `contained`. Counting
    the statuses wave by wave would leave those as the earlier waves marked them.
    """
    rows = con.sql(
        f"""
        WITH demoted AS (SELECT paragraph_id FROM ({demotions(updates)}))
        SELECT
            CASE
                WHEN paragraph_id IN (SELECT paragraph_id FROM demoted)
                  OR dup_of IN (SELECT paragraph_id FROM demoted) THEN 'contained'
                ELSE dup_status
            END AS status,
            count(*)
        FROM {paragraphs}
        GROUP BY status
        """
    ).fetchall()
    return dict(rows)


def _refresh_keywords(con: duckdb.DuckDBPyConnection) -> None:
    """Keywords of the articles of the demoted paragraphs, from the tokens they have left."""
    articles = "SELECT DISTINCT article_id FROM paragraphs SEMI JOIN dedup_demoted USING (paragraph_id)"
    tokens = con.sql(f"SELECT * FROM tokens WHERE article_id IN ({articles})").pl()
    keywords = article_keywords(tokens).to_arrow()  # noqa: F841 (used by SQL)
    con.execute(f"DELETE FROM article_keywords WHERE article_id IN ({articles})")
    con.execute("INSERT INTO article_keywords BY NAME SELECT * FROM keywords")
