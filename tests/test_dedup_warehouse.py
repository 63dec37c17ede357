"""Dedup against the warehouse: the persisted index across runs, the seed pages, the flow.

Seed paragraphs are found by their content, not by ids or positions, because the restore
stages (clean / repair / segment) may still move paragraph boundaries.
"""

from __future__ import annotations

import random
import shutil
from itertools import combinations
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from flows.steps import dedup, minhash
from tests.conftest import read_only_query
from tests.test_dedup import GRID, LOANS, PARTY, QUOTE, frames, ocr_noise
from warehouse import db, dedup_index
from warehouse.dedup_index import history_lookup
from warehouse.staging import Staging


def load_run(db_path: Path, docs: dict[str, list[str]]) -> pl.DataFrame:
    """One run of the dedup stage + load (the paragraph rows the warehouse needs), as the flow does."""
    paragraphs, documents = frames(docs)
    paragraphs = paragraphs.with_columns(
        pl.col("paragraph_id").str.slice(0, 21).alias("article_id"),
        pl.col("seq").cast(pl.Int32),
        pl.col("text").alias("text_raw"),
        pl.col("text").str.len_chars().cast(pl.Int32).alias("chars"),
    )
    result = dedup.mark_duplicates(paragraphs, documents, history_lookup(db_path))
    tables = {"paragraphs": result.paragraphs}
    tables.update(
        dedup.loadable_index({**result.index, "dedup_updates": result.history_updates}, result.paragraphs)
    )
    db.load_batch(db_path, tables)
    return result.paragraphs


def state(db_path: Path) -> list[tuple]:
    """(text, status, kept text, cluster size) of every stored paragraph, sorted."""
    return sorted(
        read_only_query(db_path)(
            "SELECT p.text, p.dup_status, k.text, p.cluster_size FROM paragraphs p "
            "LEFT JOIN paragraphs k ON k.paragraph_id = p.dup_of"
        ),
        key=str,
    )


def rows_of(db_path: Path, text: str) -> list[tuple]:
    """(status, kept text, cluster size) of the stored paragraphs with this text."""
    return [r[1:] for r in state(db_path) if r[0] == text]


def test_a_later_run_matches_stored_paragraphs_by_their_ids(tmp_path):
    db_path = tmp_path / "w.duckdb"
    first = load_run(db_path, {"a.txt": [GRID, LOANS, PARTY]})
    noisy = ocr_noise(LOANS, 0.06, seed=9)
    second = load_run(db_path, {"b.txt": [QUOTE, GRID, noisy]})

    stored_id = dict(zip(first["text"], first["paragraph_id"], strict=True))
    marked = {r["text"]: r for r in second.iter_rows(named=True)}
    assert (marked[GRID]["dup_status"], marked[GRID]["dup_of"]) == ("exact", stored_id[GRID])
    assert (marked[noisy]["dup_status"], marked[noisy]["dup_of"]) == ("near", stored_id[LOANS])
    assert marked[QUOTE]["dup_status"] == "unique"
    # The stored kept paragraphs now count their new copies.
    assert rows_of(db_path, GRID) == [("exact", GRID, 1), ("unique", None, 2)]
    assert rows_of(db_path, LOANS) == [("unique", None, 2)]
    # Only kept paragraphs are indexed.
    q = read_only_query(db_path)
    assert q("SELECT count(*) FROM dedup_keys")[0][0] == 4
    assert q("SELECT count(DISTINCT pkey) FROM dedup_bands")[0][0] == 4


def test_complete_paragraph_demotes_a_stored_fragment_as_if_loaded_together(tmp_path):
    fragment = GRID[120:420]
    runs = [{"a.txt": [fragment, PARTY], "b.txt": [fragment]}, {"c.txt": [GRID, LOANS]}]
    apart, together = tmp_path / "apart.duckdb", tmp_path / "together.duckdb"
    for docs in runs:
        load_run(apart, docs)
    load_run(together, {**runs[0], **runs[1]})

    assert state(apart) == state(together)
    assert rows_of(apart, GRID) == [("unique", None, 3)]
    # The fragment and its stored copy both moved to the complete paragraph.
    assert rows_of(apart, fragment) == [("contained", GRID, 1)] * 2
    q = read_only_query(apart)
    # The demoted fragment left the index: the next copy of it matches the complete paragraph.
    assert q("SELECT count(*) FROM dedup_keys WHERE norm_key = ?", [dedup.norm_key(fragment)]) == [(0,)]
    again = load_run(apart, {"d.txt": [fragment]})
    assert again["dup_status"].to_list() == ["contained"]


def test_seed_page_003_paragraph_printed_twice(seeded_sql):
    rows = seeded_sql(
        "SELECT paragraph_id, dup_status, dup_of, similarity, cluster_size FROM paragraphs "
        "WHERE text LIKE '“网格+居民自治”,协商议事促和谐%' ORDER BY dup_status DESC"
    )
    assert len(rows) == 2
    (kept_id, kept_status, kept_of, _, kept_cluster), (_, status, dup_of, similarity, _) = rows
    assert (kept_status, kept_of, kept_cluster) == ("unique", None, 2)
    assert (status, dup_of, similarity) == ("exact", kept_id, 1.0)
    assert seeded_sql("SELECT max(chars) FROM paragraphs WHERE paragraph_id = ?", [kept_id])[0][0] == 546


def test_seed_page_001_fragment_points_at_the_complete_paragraph(seeded_sql):
    rows = seeded_sql(
        "SELECT paragraph_id, text, dup_status, dup_of, similarity FROM paragraphs "
        "WHERE text LIKE '%东头农作物种植专业合作社监事长的张孝礼%'"
    )
    kept = [r for r in rows if r[2] == "unique"]
    assert len(kept) == 1 and len(rows) == 2
    kept_id, kept_text = kept[0][:2]
    if any(r[1].startswith("该镇现任东头村党支部副书") for r in rows):  # repair rejoined the page break
        assert kept_text.startswith("该镇现任东头村党支部副书记、东头农作物")
    (_, _, status, dup_of, similarity) = next(r for r in rows if r[2] != "unique")
    assert status in ("near", "contained") and dup_of == kept_id
    assert 0.7 <= similarity < 1.0


def test_seed_pages_have_no_other_marked_pair_and_distinct_paragraphs_stay_apart(seeded_sql):
    pairs = sorted(seeded_sql("SELECT dup_status, dup_text, kept_text FROM duplicate_pairs"))
    assert len(pairs) == 2
    (status, dup_text, kept_text), (exact, exact_dup, exact_kept) = sorted(
        pairs, key=lambda p: p[0] == "exact"
    )
    assert status in ("near", "contained") and "东头农作物种植专业合作社监事长的张孝礼" in dup_text
    assert "东头农作物种植专业合作社监事长的张孝礼" in kept_text
    assert exact == "exact" and exact_dup == exact_kept and exact_kept.startswith("“网格+居民自治”")
    # The evidence: the closest unmarked pair on the five pages is far below the threshold.
    rows = seeded_sql("SELECT text FROM paragraphs WHERE dup_status = 'unique' AND chars >= 20")
    sets = [minhash.shingle_set(dedup.norm_key(t), dedup.SHINGLE) for (t,) in rows]
    closest = max(minhash.jaccard(a, b) for a, b in combinations(sets, 2))
    assert closest < dedup.NEAR_JACCARD - 0.05


def test_clean_views_leave_duplicates_out(seeded_sql):
    dups = seeded_sql("SELECT count(*) FROM paragraphs WHERE dup_status <> 'unique'")[0][0]
    total = seeded_sql("SELECT count(*) FROM paragraphs")[0][0]
    assert seeded_sql("SELECT count(*) FROM clean_paragraphs")[0][0] == total - dups
    texts = seeded_sql("SELECT text FROM clean_articles WHERE text LIKE '%网格+居民自治%'")
    assert len(texts) == 1 and texts[0][0].count("“网格+居民自治”,协商议事促和谐") == 1
    fragment_article = seeded_sql(
        "SELECT a.text FROM clean_articles a JOIN paragraphs p USING (article_id) WHERE p.dup_status <> 'unique'"
    )
    assert all(t.count("东头农作物种植专业合作社监事长") <= 1 for (t,) in fragment_article)


def test_flow_marks_a_new_file_repeating_a_stored_paragraph(inbox, db_path, run_flow, sql):
    run_flow(inbox, db_path)
    (stored_id, stored_text) = sql(
        "SELECT paragraph_id, text FROM paragraphs WHERE dup_status = 'unique' AND text LIKE '“网格+居民自治”%'"
    )[0]
    noisy_source = sql(
        "SELECT paragraph_id, text FROM paragraphs WHERE dup_status = 'unique' AND text LIKE '%科级干部部分片包保%'"
    )[0]
    page = f"转载稿件\n\n{stored_text}\n\n{ocr_noise(noisy_source[1], 0.04, seed=1)}\n"
    shutil.copy(inbox / sorted(p.name for p in inbox.iterdir())[0], inbox / "zz_unrelated.txt")
    (inbox / "zz_reprint.txt").write_text(page, encoding="utf-8")

    summary = run_flow(inbox, db_path)

    assert summary.files_new == 1  # the byte-identical copy is not a new file
    reprint = sql(
        "SELECT p.dup_status, p.dup_of FROM paragraphs p JOIN documents d USING (doc_id) "
        "WHERE d.path = 'zz_reprint.txt' AND p.dup_status <> 'unique' ORDER BY p.dup_status"
    )
    assert reprint == [("exact", stored_id), ("near", noisy_source[0])]
    assert sql("SELECT cluster_size FROM paragraphs WHERE paragraph_id = ?", [stored_id])[0][0] == 3


def test_index_of_an_older_key_version_is_rebuilt_before_matching(tmp_path):
    db_path = tmp_path / "w.duckdb"
    first = load_run(db_path, {"a.txt": [GRID, LOANS, "短句"]})
    with db.connect(db_path) as con:  # as an index written under the previous key definition
        con.execute(
            "UPDATE dedup_keys SET norm_version = ?, norm_key = 'old', norm_hash = ?",
            [dedup.NORM_VERSION - 1, "0" * 32],
        )
        con.execute("DELETE FROM dedup_bands")
        con.execute("DELETE FROM dedup_anchors")

    second = load_run(db_path, {"b.txt": [GRID, ocr_noise(LOANS, 0.03, seed=2)]})

    stored_id = dict(zip(first["text"], first["paragraph_id"], strict=True))
    assert second.select("dup_status", "dup_of").rows() == [
        ("exact", stored_id[GRID]),
        ("near", stored_id[LOANS]),
    ]
    q = read_only_query(db_path)
    assert q("SELECT DISTINCT norm_version FROM dedup_keys") == [(dedup.NORM_VERSION,)]
    assert q("SELECT count(*) FROM dedup_bands")[0][0] == dedup.BANDS * 2  # the short key has no sketch
    assert q("SELECT count(*) FROM dedup_keys WHERE norm_key = ?", [dedup.norm_key(LOANS)]) == [(1,)]


def test_a_lookup_out_of_its_memory_runs_again_within_the_second_limit(tmp_path, monkeypatch, caplog):
    db_path = tmp_path / "w.duckdb"
    load_run(db_path, {"a.txt": [GRID, LOANS, PARTY]})
    paragraphs, documents = frames({"b.txt": [QUOTE, GRID, ocr_noise(LOANS, 0.06, seed=9)]})
    within_first = dedup.mark_duplicates(paragraphs, documents, history_lookup(db_path)).paragraphs
    assert not caplog.records

    monkeypatch.setattr(dedup_index, "LOOKUP_MEMORY_LIMITS", ("512KB", "128MB"))
    retried = dedup.mark_duplicates(paragraphs, documents, history_lookup(db_path)).paragraphs

    assert retried.equals(within_first)
    assert within_first["dup_status"].to_list() == ["unique", "exact", "near"]
    (warning,) = caplog.records
    assert "out of 512KB" in warning.getMessage() and "within 128MB" in warning.getMessage()


def test_a_fragment_demoted_by_one_wave_is_not_demoted_again_by_a_later_wave(tmp_path):
    # In one batch a fragment, once inside a complete paragraph, is no longer anyone's
    # candidate. Across waves its index rows stay staged until the load: a later wave
    # must still not take it for a kept paragraph, or the load would meet two demotions
    # of it and apply either.
    fragment = GRID[138:429]
    db_path = tmp_path / "w.duckdb"
    waves = ({"0-fragment.txt": [fragment]}, {"1-grid.txt": [GRID]}, {"2-other.txt": [fragment + PARTY]})
    updates = []
    with Staging(db_path, "run") as staging:
        for docs in waves:
            paragraphs, documents = frames(docs)
            result = dedup.mark_duplicates(paragraphs, documents, dedup_index.run_history(db_path, staging))
            updates.append(result.history_updates.filter(pl.col("dup_of").is_not_null()))
            index = {**result.index, "dedup_updates": result.history_updates}
            staging.append(dedup.loadable_index(index, result.paragraphs))
    fragment_id = frames(waves[0])[0]["paragraph_id"][0]
    grid_id = frames(waves[1])[0]["paragraph_id"][0]
    assert updates[1].select("paragraph_id", "dup_of").rows() == [(fragment_id, grid_id)]
    assert updates[2].height == 0


def test_a_runs_staging_keeps_its_common_anchors_and_the_lookup_finds_what_counting_finds(tmp_path):
    # 40 paragraphs share a stock phrase, so its anchors are common (held by more than
    # ANCHOR_MAX_DF keys) and propose nothing; each paragraph's own sentence is rare.
    # Staged in three waves, the staging keeps the common anchors as it goes; the lookup
    # reads them from there, and must find what counting every anchor's rows finds.
    phrase = "根据市委市政府统一部署，全面落实常态化疫情防控各项措施，确保人民群众生命安全。"
    pool = [c for c in GRID + LOANS + PARTY if "\u4e00" <= c <= "\u9fff"]
    rng = random.Random(5)
    own = ["".join(rng.choice(pool) for _ in range(60)) for _ in range(40)]
    texts = [f"{o}{phrase}" for o in own]
    ids = [f"p{i:02d}" for i in range(len(texts))]
    with Staging(tmp_path / "w.duckdb", "run") as staging:
        for wave in (slice(0, 15), slice(15, 30), slice(30, 40)):
            staging.append(dedup.index_all(ids[wave], pl.Series(texts[wave])))
        with duckdb.connect(str(staging.path)) as con:
            kept = {r[0] for r in con.execute(f"SELECT anchor FROM {dedup_index.COMMON_ANCHORS}").fetchall()}
            counted = con.execute(
                "SELECT anchor FROM dedup_anchors GROUP BY anchor HAVING count(*) > ?", [dedup.ANCHOR_MAX_DF]
            ).fetchall()
        assert kept == {r[0] for r in counted} and len(kept) > 5

        # A longer paragraph holding all of paragraph 7 (its own sentence and the phrase).
        key = dedup.norm_key(f"{own[7]}，{''.join(rng.choice(pool) for _ in range(60))}。{phrase}")
        sk = dedup.sketch([key], np.array([0], dtype=np.int64))
        probe = dedup.Probe(
            hashes=pl.DataFrame(
                {"row": [0], "norm_hash": [dedup.norm_hash(key)]},
                schema={"row": pl.Int64, "norm_hash": pl.String},
            ),
            buckets=sk.buckets,
            anchors=sk.anchors,
        )
        found = history_lookup(staging.path)(probe)
        with duckdb.connect(str(staging.path)) as con:
            con.execute(f"DROP TABLE {dedup_index.COMMON_ANCHORS}")
        by_counting = history_lookup(staging.path)(probe)
    pkey_7 = found.keys.filter(pl.col("paragraph_id") == "p07")["pkey"].to_list()
    assert found.pairs.sort("pkey").rows() == by_counting.pairs.sort("pkey").rows()
    assert len(pkey_7) == 1 and set(found.pairs["pkey"]) == set(pkey_7)  # the phrase proposed nothing


def test_the_anchor_lookup_proposes_a_pair_exactly_when_it_shares_half_the_shorter_keys_anchors(tmp_path):
    # Stored paragraphs holding 1-12 anchors, probes holding 1-12 (rare) anchors, and every
    # overlap between 0 and the shorter's count: the lookup's pairs must be those sharing at
    # least ANCHOR_SHARE of the shorter side's anchors, at the boundary too. The query
    # compares whole numbers; this is the rule in plain Python.
    rng = random.Random(5)
    stored, probes, expected = [], [], set()
    for row in range(300):
        n_probe, n_stored = rng.randint(1, 12), rng.randint(1, 12)
        overlap = rng.randint(0, min(n_probe, n_stored))
        # Anchors of their own: no pair but the probe and its stored paragraph share any.
        anchors = rng.sample(range(row * 100, row * 100 + 100), n_probe + n_stored - overlap)
        probe, kept = anchors[:n_probe], anchors[n_probe - overlap :]
        pkey = 1_000 + row
        stored.append((pkey, kept))
        probes.append((row, probe))
        if overlap >= dedup.ANCHOR_SHARE * min(n_probe, n_stored):
            expected.add((row, pkey))
    db_path = tmp_path / "w.duckdb"
    with db.connect(db_path) as con:
        db.ensure_schema(con)
        keys = pl.DataFrame(
            {
                "pkey": [p for p, _ in stored],
                "paragraph_id": [f"p{p}" for p, _ in stored],
                "norm_version": dedup.NORM_VERSION,
                "norm_hash": [f"h{p}" for p, _ in stored],
                "norm_key": "key",
                "n_anchors": [len(a) for _, a in stored],
            }
        )
        rows = pl.DataFrame({"anchor": [a for _, a in stored], "pkey": [p for p, _ in stored]}).explode(
            "anchor"
        )
        con.register("new_keys", keys.to_arrow())
        con.register("new_anchors", rows.to_arrow())
        con.execute("INSERT INTO dedup_keys BY NAME SELECT * FROM new_keys")
        con.execute("INSERT INTO dedup_anchors BY NAME SELECT * FROM new_anchors")
    probe = dedup.Probe(
        hashes=pl.DataFrame(schema={"row": pl.Int64, "norm_hash": pl.String}),
        buckets=pl.DataFrame(schema={"row": pl.Int64, "band": pl.Int16, "bucket": pl.Int64}),
        anchors=pl.DataFrame({"row": [r for r, _ in probes], "anchor": [a for _, a in probes]})
        .explode("anchor")
        .cast({"row": pl.Int64, "anchor": pl.Int64}),
    )

    found = history_lookup(db_path)(probe).pairs

    assert set(found.select("row", "pkey").iter_rows()) == expected
    assert 50 < len(expected) < 250  # both sides of the boundary are tried
