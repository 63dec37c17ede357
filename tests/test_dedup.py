"""Dedup stage, pure: keys, sketches, exact / near / contained, which copy stays, order independence.

Texts are real paragraphs of the seed pages (found by content), edited in known ways.
"""

from __future__ import annotations

import hashlib
import itertools
import random

import numpy as np
import polars as pl
import pytest

from flows.steps import dedup, minhash
from tests.conftest import SEEDS


def seed_paragraph(marker: str) -> str:
    """The longest blank-line-separated block of the seed pages that contains `marker`."""
    blocks = [
        b.strip() for p in sorted(SEEDS.glob("*.txt")) for b in p.read_text(encoding="utf-8").split("\n\n")
    ]
    return max((b for b in blocks if marker in b), key=len)


# Distinct paragraphs of one page (001): same paper, same day, same region.
PARTY = seed_paragraph("科级干部部分片包保")
LOANS = seed_paragraph("2021年,该镇发放创业贷款")
QUOTE = seed_paragraph("高庄镇党委书记侯东立表示")
GRID = seed_paragraph("网格+居民自治")  # 003, 546 characters


def frames(docs: dict[str, list[str]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Paragraph and document frames for pages {path: [paragraph text, ...]}."""
    rows, documents = [], []
    for path, texts in docs.items():
        doc_id = hashlib.sha256(path.encode()).hexdigest()
        documents.append({"doc_id": doc_id, "path": path})
        for seq, text in enumerate(texts):
            rows.append(
                {"paragraph_id": f"{doc_id[:16]}-a000-p{seq:03d}", "doc_id": doc_id, "seq": seq, "text": text}
            )
    return pl.DataFrame(rows), pl.DataFrame(documents)


def marks(docs: dict[str, list[str]]) -> dict[str, tuple]:
    """text -> (status, text of the kept paragraph, cluster size), for readable assertions."""
    paragraphs, documents = frames(docs)
    out = dedup.mark_duplicates(paragraphs, documents).paragraphs
    text_of = dict(zip(out["paragraph_id"], out["text"], strict=True))
    return {
        row["text"]: (row["dup_status"], text_of.get(row["dup_of"]), row["cluster_size"])
        for row in out.iter_rows(named=True)
    }


def ocr_noise(text: str, rate: float, seed: int) -> str:
    """Substitute / insert / delete `rate` of the characters (as the bench corpus does)."""
    rng = random.Random(seed)
    chars = list(text)
    for pos in sorted(rng.sample(range(len(chars)), max(1, round(rate * len(chars)))), reverse=True):
        op = rng.random()
        if op < 0.6:
            chars[pos] = "巳" if chars[pos] != "巳" else "已"
        elif op < 0.8:
            chars.insert(pos, "未")
        else:
            del chars[pos]
    return "".join(chars)


def test_norm_key_folds_script_width_punctuation_but_not_text():
    assert dedup.norm_key("報導：ＡＢＣ　１２３，“好”!") == dedup.norm_key("报导ABC123好")
    assert dedup.norm_key("报导ABC123好") == "报导abc123好"
    paragraphs, documents = frames({"a.txt": ["報導：ＡＢＣ", "报导abc"]})
    out = dedup.mark_duplicates(paragraphs, documents).paragraphs
    assert out["text"].to_list() == ["報導：ＡＢＣ", "报导abc"]  # display text untouched
    assert out["dup_status"].to_list() == ["unique", "exact"]
    assert set(out["norm_version"]) == {dedup.NORM_VERSION}


def test_vectorised_shingles_equal_one_key_at_a_time():
    keys = [dedup.norm_key(t) for t in (PARTY, LOANS, "短", "", "两字")]
    together = minhash.shingle_hashes(keys, 3)
    for i, key in enumerate(keys):
        alone = minhash.shingle_hashes([key], 3).hashes
        assert np.array_equal(together.hashes[together.offsets[i] : together.offsets[i + 1]], alone)
    assert np.diff(together.offsets).tolist() == [len(keys[0]) - 2, len(keys[1]) - 2, 1, 0, 1]


def test_hashed_shingle_sets_measure_like_the_shingle_strings():
    texts = (PARTY, LOANS, GRID, GRID[100:300], ocr_noise(LOANS, 0.05, seed=5), "短", "", "两字", "三个字")
    keys = [dedup.norm_key(t) for t in texts]
    hashed = minhash.shingle_sets(keys, dedup.SHINGLE)
    strings = [minhash.shingle_set(k, dedup.SHINGLE) for k in keys]
    assert [len(s) for s in hashed] == [len(s) for s in strings]
    for i in range(len(keys)):
        for j in range(len(keys)):
            assert minhash.jaccard(hashed[i], hashed[j]) == minhash.jaccard(strings[i], strings[j])
            assert minhash.containment(hashed[i], hashed[j]) == minhash.containment(strings[i], strings[j])
    assert minhash.containment(hashed[3], hashed[2]) == 1.0  # a piece of GRID lies inside GRID
    with pytest.raises(ValueError):
        minhash.shingle_sets(keys, 4)  # 4 code points no longer pack one-to-one
    # Hashed a few keys at a time (slices of ~100 characters), the sets are the same.
    sliced = minhash.shingle_sets(keys, dedup.SHINGLE, slice_chars=100)
    assert len(sliced) == len(hashed) and all(
        np.array_equal(a, b) for a, b in zip(sliced, hashed, strict=True)
    )


def test_only_stored_candidates_with_a_relation_become_nodes(monkeypatch: pytest.MonkeyPatch):
    """A wave's LSH and anchor candidates are mostly paragraphs on the same topic: those
    bearing no relation to their row are left out before the clustering, the rest kept."""
    batch = [GRID, GRID[40:300], PARTY]
    stored_texts = {
        "s-near": ocr_noise(GRID, 0.05, seed=1),  # near copy of row 0
        "s-whole": GRID + LOANS,  # row 1 lies inside it
        "s-piece": PARTY[:120],  # lies inside row 2
        "s-topic": LOANS,  # same page, no relation to any row
        "s-quote": QUOTE,
    }
    keys = [dedup.norm_key(t) for t in batch]
    stored = dedup.Stored(
        exact=pl.DataFrame(schema={"row": pl.Int64, "paragraph_id": pl.String}),
        pairs=pl.DataFrame(
            [(0, 1), (0, 4), (1, 2), (1, 4), (2, 3), (2, 5), (0, 5)],
            schema={"row": pl.Int64, "pkey": pl.Int64},
            orient="row",
        ),
        keys=pl.DataFrame(
            {
                "pkey": [5, 4, 3, 2, 1],
                "paragraph_id": ["s-quote", "s-topic", "s-piece", "s-whole", "s-near"],
                "norm_key": [
                    dedup.norm_key(stored_texts[p])
                    for p in ("s-quote", "s-topic", "s-piece", "s-whole", "s-near")
                ],
            }
        ),
    )
    sets = dict(enumerate(minhash.shingle_sets(keys, dedup.SHINGLE)))
    # All stored keys and pairs at once, the keys one by one, or the pairs one by one.
    for slice_chars, pairs_at_once in ((1 << 20, 2048), (50, 2048), (1 << 20, 1)):
        monkeypatch.setattr(dedup, "CONFIRM_SLICE_CHARS", slice_chars)
        monkeypatch.setattr(dedup, "CONFIRM_PAIRS", pairs_at_once)
        confirmed = dedup._confirmed(stored, keys, sets)
        assert sorted(confirmed.pairs.rows()) == [(0, 1), (1, 2), (2, 3)]
        assert confirmed.keys["paragraph_id"].to_list() == ["s-near", "s-piece", "s-whole"]


def test_pairs_compared_at_once_bear_a_relation_exactly_when_one_pair_does():
    """`_related` (all of a wave's stored candidates at once) decides as `_relation` (the
    clustering, one pair at a time) on every pair of the seeds' paragraphs, their pieces
    and their noisy copies: each kind of relation, and none."""
    blocks = {
        b.strip() for p in sorted(SEEDS.glob("*.txt")) for b in p.read_text(encoding="utf-8").split("\n\n")
    }
    paragraphs = sorted(b for b in blocks if len(b) >= 60)[:40]
    texts = [
        *paragraphs,
        *(p[len(p) // 4 : len(p) // 4 + max(20, len(p) // 3)] for p in paragraphs[:15]),  # pieces
        # Copies with 12 % of their characters changed: Jaccard 0.38-0.56 to the original,
        # on both sides of NEAR_JACCARD.
        *(ocr_noise(p, 0.12, seed=i) for i, p in enumerate(paragraphs[15:30])),
        *(ocr_noise(p[: len(p) // 2], 0.2, seed=i) for i, p in enumerate(paragraphs[30:])),  # noisy pieces
        "",
        "短",
    ]
    keys = [dedup.norm_key(t) for t in texts]
    sets = minhash.shingle_sets(keys, dedup.SHINGLE)
    a, b = (np.array(side) for side in zip(*itertools.product(range(len(keys)), repeat=2), strict=True))
    lists = minhash.as_lists(np.concatenate(sets), np.r_[0, np.cumsum([len(s) for s in sets])])
    shared, sizes = minhash.shared_counts(lists.gather(a), lists.gather(b)), minhash.set_sizes(lists)
    assert sizes.tolist() == [len(s) for s in sets]
    chars = np.array([len(k) for k in keys])
    together = dedup._related(chars[a], chars[b], sizes[a], sizes[b], shared)

    one_by_one = [dedup._relation(keys[i], sets[i], keys[j], sets[j]) for i, j in zip(a, b, strict=True)]
    assert together.tolist() == [r is not None for r in one_by_one]
    assert {r[0] if r else None for r in one_by_one} == {"inside", "fragment", "near", None}
    jaccard = shared / np.maximum(sizes[a] + sizes[b] - shared, 1)
    assert ((jaccard >= dedup.NEAR_JACCARD) & (jaccard < dedup.NEAR_JACCARD + 0.05)).any()
    assert ((jaccard < dedup.NEAR_JACCARD) & (jaccard > dedup.NEAR_JACCARD - 0.08)).any()

    # Pairs right at the thresholds: (key lengths, set sizes, shared shingles) -> related.
    edges = [
        ((30, 30), (20, 9), 9, True),  # Jaccard 9 / 20 = NEAR_JACCARD
        ((30, 30), (20, 10), 9, False),  # 9 / 21, just below
        ((20, 40), (10, 30), 7, True),  # a piece with containment 7 / 10 = CONTAINED_SHARE
        ((40, 20), (30, 10), 7, True),  # ... the other way round
        ((20, 40), (10, 30), 6, False),  # 6 / 10, just below
    ]
    for (chars_a, chars_b), (size_a, size_b), common, related in edges:
        set_a = np.arange(size_a, dtype=np.uint64)
        set_b = np.arange(size_a - common, size_a - common + size_b, dtype=np.uint64)
        assert (dedup._relation("字" * chars_a, set_a, "字" * chars_b, set_b) is not None) == related
        got = dedup._related(*(np.array([x]) for x in (chars_a, chars_b, size_a, size_b, common)))
        assert got.tolist() == [related]


def test_winnow_anchors_are_each_keys_distinct_window_minima_in_order():
    window = dedup.ANCHOR_WINDOW
    texts = (PARTY, GRID[:40] * 3, "短句子", "", GRID[:12], LOANS)  # a repeated stretch; short keys
    keys = [dedup.norm_key(t) for t in texts]
    shingles = minhash.shingle_hashes(keys, dedup.ANCHOR_SHINGLE)
    owner, anchor = minhash.winnow(shingles, window)
    runs = []
    for i in range(len(keys)):
        h = shingles.hashes[shingles.offsets[i] : shingles.offsets[i + 1]].tolist()
        minima = [min(h[s : s + window]) for s in range(max(len(h) - window + 1, 1 if h else 0))]
        expected = np.array(list(dict.fromkeys(minima)), dtype=np.uint64).view(np.int64)
        assert np.array_equal(anchor[owner == i], expected)
        runs.append(sum(1 for s, m in enumerate(minima) if s == 0 or m != minima[s - 1]))
    # The repeated stretch brings its minima back after others: more than consecutive repeats.
    assert len(anchor[owner == 1]) < runs[1]


def test_exact_copy_points_at_the_first_in_load_order():
    wide = GRID.replace(",", "\uff0c")  # the same paragraph typed with full-width commas
    got = marks({"b.txt": [GRID, PARTY], "a.txt": [LOANS, wide]})
    # a.txt loads first: its copy of GRID is the kept one.
    assert got[GRID] == ("exact", wide, 1)
    assert got[wide] == ("unique", None, 2)
    assert got[PARTY][0] == got[LOANS][0] == "unique"


@pytest.mark.parametrize("rate", [0.01, 0.05, 0.10])
def test_ocr_noisy_copy_is_near_duplicate_with_its_jaccard(rate):
    noisy = ocr_noise(LOANS, rate, seed=int(rate * 100))
    got = marks({"a.txt": [LOANS, PARTY], "b.txt": [QUOTE, noisy]})
    status, kept, _ = got[noisy]
    assert (status, kept) == ("near", LOANS)
    assert got[LOANS] == ("unique", None, 2)
    paragraphs, documents = frames({"a.txt": [LOANS], "b.txt": [noisy]})
    similarity = dedup.mark_duplicates(paragraphs, documents).paragraphs["similarity"][1]
    expected = minhash.jaccard(
        minhash.shingle_set(dedup.norm_key(noisy), 3), minhash.shingle_set(dedup.norm_key(LOANS), 3)
    )
    assert similarity == pytest.approx(expected, abs=1e-4)
    assert dedup.NEAR_JACCARD <= similarity < 1.0


@pytest.mark.parametrize("share", [0.3, 0.6, 0.9])
def test_fragment_is_contained_in_the_complete_paragraph_whichever_comes_first(share):
    fragment = GRID[100 : 100 + round(share * len(GRID))]
    for docs in ({"a.txt": [fragment], "b.txt": [GRID]}, {"a.txt": [GRID], "b.txt": [fragment]}):
        got = marks(docs)
        assert got[fragment][:2] == ("contained", GRID)
        assert got[GRID] == ("unique", None, 2)


def test_copies_of_a_fragment_move_to_the_complete_paragraph():
    fragment = GRID[:200]
    got = marks({"a.txt": [fragment, PARTY], "b.txt": [fragment], "c.txt": [GRID]})
    assert [v[:2] for k, v in got.items() if k != PARTY] == [("contained", GRID), ("unique", None)]
    assert got[GRID][2] == 3  # the complete paragraph, the fragment and the fragment's copy


def test_distinct_paragraphs_of_one_page_and_short_quotes_are_not_marked():
    headline = "高庄镇:创贷政策促发展"  # short text inside no paragraph, but similar topic
    slogan = LOANS[10:26]  # under MIN_FRAGMENT_CHARS: a quoted phrase, not a fragment
    got = marks({"a.txt": [PARTY, LOANS, QUOTE, headline, slogan]})
    assert {v[0] for v in got.values()} == {"unique"}


def test_result_does_not_depend_on_row_or_document_order():
    fragment, noisy = GRID[50:300], ocr_noise(LOANS, 0.05, seed=3)
    docs = {"a.txt": [fragment, PARTY], "b.txt": [LOANS, GRID], "c.txt": [noisy, QUOTE, GRID]}
    paragraphs, documents = frames(docs)
    expected = dedup.mark_duplicates(paragraphs, documents).paragraphs.sort("paragraph_id")
    for seed in range(5):
        shuffled = paragraphs.sample(fraction=1.0, shuffle=True, seed=seed)
        docs_shuffled = documents.sample(fraction=1.0, shuffle=True, seed=seed)
        again = dedup.mark_duplicates(shuffled, docs_shuffled).paragraphs.sort("paragraph_id")
        assert again.equals(expected)
    statuses = dict(zip(expected["text"], expected["dup_status"], strict=False))
    assert (statuses[fragment], statuses[noisy]) == ("contained", "near")


def test_index_rows_cover_exactly_the_kept_paragraphs():
    paragraphs, documents = frames({"a.txt": [GRID, PARTY, "短句"], "b.txt": [GRID, GRID[:300]]})
    result = dedup.mark_duplicates(paragraphs, documents)
    kept = set(result.paragraphs.filter(pl.col("dup_status") == "unique")["paragraph_id"])
    keys = result.index["dedup_keys"]
    assert set(keys["paragraph_id"]) == kept
    assert result.index["dedup_bands"].height == dedup.BANDS * 2  # the short key has no sketch
    assert set(result.index["dedup_bands"]["pkey"]) == set(keys.filter(pl.col("n_anchors") > 0)["pkey"])


def test_an_empty_batch_marks_nothing():
    paragraphs, documents = frames({"a.txt": [GRID]})
    result = dedup.mark_duplicates(paragraphs.clear(), documents)
    assert result.paragraphs.height == 0
    assert all(frame.height == 0 for frame in result.index.values())
    assert result.history_updates.height == 0


def test_loadable_index_drops_rows_of_quarantined_paragraphs():
    fragment = GRID[:300]
    paragraphs, documents = frames({"a.txt": [fragment, PARTY], "b.txt": [GRID]})
    result = dedup.mark_duplicates(paragraphs, documents)
    complete_id = result.paragraphs.filter(pl.col("text") == GRID)["paragraph_id"][0]
    # Stored rows: one whose cluster grew, one fragment demoted by the complete paragraph.
    updates = pl.DataFrame(
        {"paragraph_id": ["stored-kept", "stored-fragment"], "dup_of": [None, complete_id]}
    )
    index = {**result.index, "dedup_updates": updates}
    loaded = result.paragraphs.filter(pl.col("paragraph_id") != complete_id)  # as if GRID failed validation
    rows = dedup.loadable_index(index, loaded)
    assert complete_id not in rows["dedup_keys"]["paragraph_id"].to_list()
    assert rows["dedup_keys"].height == 1  # PARTY; the fragment is not kept
    assert rows["dedup_bands"].height == dedup.BANDS
    assert rows["dedup_updates"]["paragraph_id"].to_list() == ["stored-kept"]
