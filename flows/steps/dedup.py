"""Dedup: mark repeated paragraphs (exact, near, contained) within the batch and against history.

Comparison key (``norm_key``, version ``NORM_VERSION``): Traditional characters mapped to
Simplified, NFKC (full-width letters, digits and punctuation folded), then everything that
is not a letter or digit removed and Latin lower-cased. The displayed ``text`` is never
changed; the key is stored in the dedup index with its version (an index of an older
version is re-keyed before the next lookup: ``warehouse.dedup_index.rebuild_stale``).

For each paragraph, against the paragraphs kept so far:

- ``exact``: same key (xxh3-128 ``norm_hash``).
- ``contained``: the key is at most FRAGMENT_MAX_SHARE as long as a kept paragraph's and
  its 3-shingles lie (almost) wholly inside it: containment |A & B| / |A| >= CONTAINED_SHARE.
  Jaccard cannot find these (a 30 % fragment has J ~ 0.3), so candidates come from
  winnowing anchors (minimum hash of every ANCHOR_WINDOW consecutive 4-shingles): every
  anchor of an exact fragment is an anchor of its source, so a pair is a candidate when at
  least ANCHOR_SHARE of the shorter key's anchors are shared.
- ``near``: Jaccard of the keys' character 3-shingles >= NEAR_JACCARD. Candidates come from
  MinHash LSH, BANDS x ROWS = 32 x 4 (128 permutations, rensa).
Every candidate is confirmed on the real shingle sets before anything is marked (held as
their one-to-one hashes, ``minhash.shingle_sets``).

Why k = 3, J >= 0.45 and 32 x 4 (``uv run python bench/dedup_bench.py calibrate``, corpus
of ``bench/dedup_corpus.py`` built from the seed pages' words; docs/dedup.md has the table):
with 1-10 % OCR-like edits, near copies keep 3-shingle Jaccard >= 0.51 (p1 of the 7-10 %
edits: 0.53), while distinct paragraphs of one topic reach 0.23 and same-template
"sibling" paragraphs 0.31. On the real seed pages the closest distinct pair (two templated
press-conference paragraphs, 12月9日/12月6日 …牡丹区人民政府新闻办公室…) has J = 0.38 at k = 3.
k = 2 gives 0.62 vs 0.42 (bigrams are mostly whole two-character words, shared by any
text on the topic); k = 4 gives 0.41 vs 0.23: k = 3 keeps the distinct side well below a
threshold the noisiest near copies clear. NEAR_JACCARD = 0.45 sits between 0.38 and 0.51.
32 bands of 4 rows propose a pair of J = 0.55 with probability 0.95 and of J = 0.6 with
0.99 (16 x 4: 0.79 / 0.89), while a same-topic pair of J = 0.2 gets 0.05.
Fragments cut from a paragraph keep containment 1.0; a 20-character piece of one
paragraph inside another of its topic reaches 0.22, so CONTAINED_SHARE = 0.7 also
tolerates OCR noise inside a fragment.

Which copy stays (deterministic, independent of the order rows arrive in):
paragraphs are processed in load order (warehouse history first, then documents by path,
then paragraph order). A paragraph is a duplicate of the best kept paragraph it matches
(contained before near; highest similarity, then the longer, then the earlier). A kept
paragraph that turns out to be (almost) wholly contained in a later, longer one is demoted:
"the complete paragraph over a fragment", whichever came first. When the fragment is
already in the warehouse, the demotion is applied to its stored row in the same load
transaction (``warehouse.dedup_index.apply_history_updates``): loading two files in one run
or in two runs ends in the same state. Everything pointing at a demoted paragraph is
re-pointed to the complete one, so ``dup_of`` always names a kept (``unique``) paragraph.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import opencc
import polars as pl
import xxhash

from flows.steps import minhash

NORM_VERSION = 2  # 2: Traditional -> Simplified added to the key
SHINGLE = 3
BANDS, ROWS = 32, 4
LSH_SEED = 20260401
NEAR_JACCARD = 0.45
ANCHOR_SHINGLE, ANCHOR_WINDOW = 4, 10
ANCHOR_SHARE = 0.5  # share of the shorter key's anchors the longer must hold to be a candidate
ANCHOR_MAX_DF = 30  # anchors in more keys than this (stock phrases) propose no pairs
CONTAINED_SHARE = 0.7
# A fragment is at most this share of the longer key: near copies differ in length only by
# their few inserted or deleted characters, so they never qualify.
FRAGMENT_MAX_SHARE = 0.95
MIN_SKETCH_CHARS = 8  # shorter keys (captions, datelines) only ever match exactly
MIN_FRAGMENT_CHARS = 20  # shorter "fragments" are headlines or slogans quoted in the body (seed 001)
SKETCH_SLICE_CHARS = 1 << 16  # keys sketched together: bounds the shingle arrays (~0.5 MB each)

METHOD_EXACT = "norm_hash"
METHOD_NEAR = "minhash_lsh+jaccard3"
METHOD_CONTAINED = "winnow+containment3"


@functools.cache
def _t2s_table() -> tuple[pl.Series, pl.Series]:
    """OpenCC's character-level Traditional -> Simplified table (first choice of each), as
    replace_many's pattern and replacement lists: read and built once per process."""
    table = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    out = {}
    for line in table.read_text(encoding="utf-8").splitlines():
        trad, _, simp = line.partition("\t")
        if len(trad) == 1 and simp:
            out[trad] = simp.split(" ")[0]
    return pl.Series(list(out)).implode(), pl.Series(list(out.values())).implode()


def norm_keys(texts: pl.Series) -> pl.Series:
    """The comparison keys of many paragraphs at once (version NORM_VERSION), in Rust via polars."""
    return (
        texts.str.replace_many(*_t2s_table())
        .str.normalize("NFKC")
        .str.replace_all(r"[\W_]+", "")
        .str.to_lowercase()
    )


def norm_key(text: str) -> str:
    """The comparison key of one paragraph."""
    return norm_keys(pl.Series([text]))[0]


def norm_hash(key: str) -> str:
    return xxhash.xxh3_128_hexdigest(key.encode("utf-8"))


def pkey(paragraph_id: str) -> int:
    """The dedup index's integer key of a paragraph (signed 64-bit, for BIGINT columns)."""
    return xxhash.xxh3_64_intdigest(paragraph_id.encode("utf-8")) - (1 << 63)


# --- the history interface --------------------------------------------------------------


@dataclass
class Probe:
    """What the batch asks the warehouse: rows are positions in the batch's key list."""

    hashes: pl.DataFrame  # row, norm_hash
    buckets: pl.DataFrame  # row, band, bucket
    anchors: pl.DataFrame  # row, anchor


@dataclass
class Stored:
    """What the warehouse answers: kept paragraphs that may match probe rows."""

    exact: pl.DataFrame  # row, paragraph_id
    pairs: pl.DataFrame  # row, pkey (LSH or anchor candidates)
    keys: pl.DataFrame  # pkey, paragraph_id, norm_key


HistoryLookup = Callable[[Probe], Stored]

EMPTY_STORED = Stored(
    exact=pl.DataFrame(schema={"row": pl.Int64, "paragraph_id": pl.String}),
    pairs=pl.DataFrame(schema={"row": pl.Int64, "pkey": pl.Int64}),
    keys=pl.DataFrame(schema={"pkey": pl.Int64, "paragraph_id": pl.String, "norm_key": pl.String}),
)


def no_history(_: Probe) -> Stored:
    return EMPTY_STORED


@dataclass
class DedupResult:
    paragraphs: pl.DataFrame  # input + norm_version, norm_hash, dup_status, dup_of, similarity, ...
    index: dict[str, pl.DataFrame]  # dedup_keys / dedup_bands / dedup_anchors rows of kept paragraphs
    # Stored paragraphs to rewrite in the load transaction: demoted fragments (dup_of set) and
    # kept paragraphs whose cluster grew (dup_of null: only their cluster_size is recounted).
    history_updates: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=HISTORY_UPDATE_SCHEMA))


HISTORY_UPDATE_SCHEMA = {
    "paragraph_id": pl.String,
    "dup_of": pl.String,
    "similarity": pl.Float64,
    "dup_method": pl.String,
}


# --- sketches ---------------------------------------------------------------------------


@dataclass
class Sketches:
    buckets: pl.DataFrame  # row, band, bucket
    anchors: pl.DataFrame  # row, anchor
    n_anchors: pl.DataFrame  # row, n_anchors


def sketch(keys: list[str], rows: np.ndarray, slice_chars: int = SKETCH_SLICE_CHARS) -> Sketches:
    """LSH buckets and winnowing anchors of `keys` (labelled with `rows`), a slice at a time.

    The shingle arrays take ~8 bytes per character each, several at once: slices of about
    `slice_chars` characters keep that bounded whatever the batch size.
    """
    buckets, anchors, counts = [], [], []
    lengths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
    for start, stop in minhash.char_slices(lengths, slice_chars):
        part, labels = keys[start:stop], rows[start:stop]
        b = minhash.lsh_buckets(minhash.shingle_hashes(part, SHINGLE), BANDS, ROWS, LSH_SEED)
        buckets.append(
            pl.DataFrame(
                {
                    "row": np.repeat(labels, BANDS),
                    "band": np.tile(np.arange(BANDS, dtype=np.int16), len(part)),
                    "bucket": b.reshape(-1),
                }
            )
        )
        owner, anchor = minhash.winnow(minhash.shingle_hashes(part, ANCHOR_SHINGLE), ANCHOR_WINDOW)
        anchors.append(pl.DataFrame({"row": labels[owner], "anchor": anchor}))
        n = np.bincount(owner, minlength=len(part))
        counts.append(pl.DataFrame({"row": labels[n > 0], "n_anchors": n[n > 0]}))
    schema_b = {"row": pl.Int64, "band": pl.Int16, "bucket": pl.Int64}
    schema_a = {"row": pl.Int64, "anchor": pl.Int64}
    schema_n = {"row": pl.Int64, "n_anchors": pl.Int32}
    return Sketches(
        pl.concat(buckets).cast(schema_b) if buckets else pl.DataFrame(schema=schema_b),
        pl.concat(anchors).cast(schema_a) if anchors else pl.DataFrame(schema=schema_a),
        pl.concat(counts).cast(schema_n) if counts else pl.DataFrame(schema=schema_n),
    )


def batch_candidates(sk: Sketches) -> pl.DataFrame:
    """Pairs (a, b), a < b, of batch rows sharing an LSH bucket or most of the shorter's anchors."""
    # A near pair shares most of its 32 bands: each distinct set of rows sharing a bucket
    # is paired once, not once per band (that was ~30 join rows per pair).
    bucket_groups = (
        sk.buckets.filter(pl.col("bucket").is_duplicated())
        .group_by("band", "bucket")
        .agg(pl.col("row").sort())
        .select(pl.col("row").unique())["row"]
    )
    by_bucket = _pairs_in_groups(bucket_groups.explode().to_numpy(), bucket_groups.list.len().to_numpy())
    # Anchors held by 2 .. ANCHOR_MAX_DF rows (more: a stock phrase) pair their rows; a
    # pair is a candidate when it shares most of the shorter key's anchors. In numpy: the
    # anchor table is large and polars' grouping of it costs ~100 MB of hash tables.
    order = np.argsort(sk.anchors["anchor"].to_numpy(), kind="stable")
    anchor, row = sk.anchors["anchor"].to_numpy()[order], sk.anchors["row"].to_numpy()[order]
    sizes = np.diff(np.flatnonzero(np.r_[True, anchor[1:] != anchor[:-1]]), append=len(anchor))
    rare = (sizes >= 2) & (sizes <= ANCHOR_MAX_DF)
    pairs, shared = np.unique(_pairs_in_groups(row[np.repeat(rare, sizes)], sizes[rare]), return_counts=True)
    n_anchors = np.zeros(int(sk.n_anchors["row"].max() or 0) + 1, dtype=np.int64)
    n_anchors[sk.n_anchors["row"].to_numpy()] = sk.n_anchors["n_anchors"].to_numpy()
    fewer = np.minimum(n_anchors[pairs >> 32], n_anchors[pairs & 0xFFFFFFFF])
    by_anchor = pairs[shared >= ANCHOR_SHARE * fewer]
    both = np.union1d(by_bucket, by_anchor)
    return pl.DataFrame({"a": both >> 32, "b": both & 0xFFFFFFFF}, schema={"a": pl.Int64, "b": pl.Int64})


def _pairs_in_groups(rows: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Every pair a < b of distinct rows within a group, as one integer a * 2**32 + b.

    `rows` holds the groups one after the other (`sizes` long); rows are batch positions,
    far below 2**31, so a pair packs into one int64 to count and dedupe.
    """
    rows, sizes = rows.astype(np.int64), sizes.astype(np.int64)
    position = np.arange(len(rows))
    later = np.repeat(np.cumsum(sizes), sizes) - position - 1  # rows after this one in its group
    first = np.repeat(position, later)
    run_start = np.repeat(np.cumsum(later) - later, later)
    second = rows[first + 1 + (np.arange(len(first)) - run_start)]
    first = rows[first]
    return np.minimum(first, second) * (1 << 32) + np.maximum(first, second)


# --- clustering -------------------------------------------------------------------------


_NO_SHINGLES = np.zeros(0, dtype=np.uint64)


@dataclass
class _Node:
    """A paragraph in the clustering: a batch representative or a stored kept paragraph."""

    paragraph_id: str
    key: str
    rank: int  # load order; stored paragraphs rank before every batch paragraph
    stored: bool
    status: str = "unique"
    dup_of: int | None = None  # node id of the kept paragraph
    similarity: float | None = None
    members: list[int] = field(default_factory=list)  # nodes whose dup_of is this node
    shingles: np.ndarray = field(default_factory=lambda: _NO_SHINGLES)  # of key (minhash.shingle_sets)


def _assign(nodes: dict[int, _Node], adjacency: dict[int, set[int]], batch_order: list[int]) -> list[int]:
    """Greedy clustering in load order; returns the stored nodes demoted to fragments."""
    demoted = []
    processed = {i for i, n in nodes.items() if n.stored}
    for x in batch_order:
        node = nodes[x]
        kept = [p for p in adjacency.get(x, ()) if p in processed and nodes[p].status == "unique"]
        near, inside, fragments = [], [], []
        for p in kept:
            other = nodes[p]
            relation = _relation(node.key, node.shingles, other.key, other.shingles)
            if relation is None:
                continue
            kind, similarity = relation
            if kind == "inside":
                inside.append((similarity, len(other.key), -other.rank, p))
            elif kind == "fragment":
                fragments.append((similarity, p))
            else:
                near.append((similarity, -other.rank, p))
        processed.add(x)
        if inside:
            c, _, _, p = max(inside)
            _point(nodes, x, p, "contained", c)
        elif near:
            j, _, p = max(near)
            _point(nodes, x, p, "near", j)
        else:
            for c, p in sorted(fragments, key=lambda f: nodes[f[1]].rank):
                if nodes[p].status != "unique":
                    continue
                moved = nodes[p].members
                nodes[p].members = []
                _point(nodes, p, x, "contained", c)
                for m in moved:
                    # Re-point the fragment's copies; their similarity is to the new kept paragraph.
                    sim = minhash.containment(nodes[m].shingles, node.shingles) if not nodes[m].stored else c
                    _point(nodes, m, x, "contained", sim)
                if nodes[p].stored:
                    demoted.append(p)
    return demoted


def _relation(
    key: str, shingles: np.ndarray, other_key: str, other_shingles: np.ndarray
) -> tuple[str, float] | None:
    """What a paragraph is to a candidate: ("inside", containment) when it lies (almost)
    wholly inside it, ("fragment", containment) when the candidate lies inside it,
    ("near", Jaccard), or None: a candidate it bears no relation to."""
    # One intersection for all three measures: a fragment's containment that falls short
    # is followed by the pair's Jaccard, and a wave against the 1 GB load's index checks
    # ~58,000 candidate pairs here, most of them of lengths a fragment may have.
    shared = minhash.shared(shingles, other_shingles)
    # A clearly shorter key (almost) wholly inside the other is its fragment, even when
    # their Jaccard is high: the complete paragraph must win, whichever came first.
    if _is_fragment(key, other_key):
        c = minhash.containment_of(shared, len(shingles))
        if c >= CONTAINED_SHARE:
            return "inside", c
    elif _is_fragment(other_key, key):
        c = minhash.containment_of(shared, len(other_shingles))
        if c >= CONTAINED_SHARE:
            return "fragment", c
    j = minhash.jaccard_of(shared, len(shingles), len(other_shingles))
    return ("near", j) if j >= NEAR_JACCARD else None


def _is_fragment(short: str, long: str) -> bool:
    return MIN_FRAGMENT_CHARS <= len(short) <= FRAGMENT_MAX_SHARE * len(long)


def _point(nodes: dict[int, _Node], x: int, kept: int, status: str, similarity: float) -> None:
    nodes[x].status, nodes[x].dup_of, nodes[x].similarity = status, kept, round(similarity, 4)
    nodes[kept].members.append(x)


# --- the stage --------------------------------------------------------------------------


def load_order(paragraphs: pl.DataFrame, documents: pl.DataFrame) -> pl.DataFrame:
    """Paragraphs sorted into load order: documents by path, then paragraph order."""
    paths = documents.select("doc_id", "path").unique("doc_id")
    return (
        paragraphs.join(paths, on="doc_id", how="left")
        .sort("path", "doc_id", "paragraph_id", nulls_last=True)
        .drop("path")
    )


def mark_duplicates(
    paragraphs: pl.DataFrame, documents: pl.DataFrame, history: HistoryLookup = no_history
) -> DedupResult:
    """Add norm_version, norm_hash, dup_status, dup_of, similarity, dup_method, cluster_size.

    The result does not depend on the order of the input rows (see the module docstring).
    """
    ordered = load_order(paragraphs, documents)
    n = ordered.height
    ids = ordered["paragraph_id"].to_list()
    key_series = norm_keys(ordered["text"])
    keys = key_series.to_list()
    hashes = [norm_hash(k) for k in keys]

    # Exact copies inside the batch collapse onto their first row (the representative).
    first_of: dict[str, int] = {}
    rep = np.fromiter((first_of.setdefault(h, i) for i, h in enumerate(hashes)), dtype=np.int64, count=n)
    reps = np.fromiter(first_of.values(), dtype=np.int64, count=len(first_of))  # ascending
    key_chars = np.fromiter(map(len, keys), dtype=np.int64, count=n)
    sketched = reps[key_chars[reps] >= MIN_SKETCH_CHARS]
    sk = sketch([keys[r] for r in sketched.tolist()], sketched)

    stored = history(
        Probe(
            hashes=pl.DataFrame(
                {"row": reps, "norm_hash": [hashes[r] for r in reps.tolist()]},
                schema={"row": pl.Int64, "norm_hash": pl.String},
            ),
            buckets=sk.buckets,
            anchors=sk.anchors,
        )
    )

    nodes, stored_ids, adjacency = _graph(ids, keys, stored, batch_candidates(sk))
    undecided = sorted(r for r in adjacency if nodes[r].status == "unique")
    demoted = _assign(nodes, adjacency, undecided)
    marks = _Marks.of(nodes, n, rep)
    result = _with_provenance(ordered, marks, nodes, stored_ids, hashes)
    keyed = result.select("paragraph_id", "norm_hash", key_series.alias("norm_key"))
    return DedupResult(
        paragraphs=result,
        index=index_rows(marks.status == 0, keyed, sk),
        history_updates=_history_updates(nodes, demoted, marks.dup_of),
    )


def _graph(
    ids: list[str], keys: list[str], stored: Stored, pairs: pl.DataFrame
) -> tuple[dict[int, _Node], list[str], dict[int, set[int]]]:
    """The clustering's nodes, the stored paragraphs' ids (in node order) and candidate edges.

    Nodes exist only for what can be marked by comparison: batch representatives with a
    candidate or a stored exact copy (already pointed at it), and the stored paragraphs
    related to one (`_confirmed`) or copied exactly. A node's id is its batch row, or
    n + j for the j-th stored paragraph: the related ones in paragraph id order, then the
    copied ones (ties between stored paragraphs go by node id). Rows without a node stay
    unique or follow their representative (`_Marks`).
    """
    n = len(ids)
    # The batch rows that may be marked by comparison, and their shingle sets.
    batch_rows = sorted(
        {
            *stored.exact["row"].to_list(),
            *pairs["a"].to_list(),
            *pairs["b"].to_list(),
            *stored.pairs["row"].to_list(),
        }
    )
    batch_sets = dict(
        zip(batch_rows, minhash.shingle_sets([keys[r] for r in batch_rows], SHINGLE), strict=True)
    )
    stored = _confirmed(stored, keys, batch_sets)
    nodes: dict[int, _Node] = {}
    stored_ids: list[str] = []

    def stored_node(pid: str, key: str) -> int:
        nodes[n + len(stored_ids)] = _Node(pid, key, rank=-1, stored=True)
        stored_ids.append(pid)
        return n + len(stored_ids) - 1

    def batch_node(r: int) -> None:
        if r not in nodes:
            nodes[r] = _Node(ids[r], keys[r], rank=r, stored=False, shingles=batch_sets[r])

    node_of_pkey = {pk: stored_node(pid, key) for pk, pid, key in stored.keys.iter_rows()}
    node_of_pid = {nodes[i].paragraph_id: i for i in node_of_pkey.values()}
    for r, pid in sorted(dict(stored.exact.iter_rows()).items()):
        if pid not in node_of_pid:
            node_of_pid[pid] = stored_node(pid, keys[r])
        batch_node(r)
        _point(nodes, r, node_of_pid[pid], "exact", 1.0)

    adjacency: dict[int, set[int]] = {}
    for a, b in zip(pairs["a"].to_list(), pairs["b"].to_list(), strict=True):
        adjacency.setdefault(a, set()).add(b)
        adjacency.setdefault(b, set()).add(a)
    for r, pk in stored.pairs.iter_rows():
        adjacency.setdefault(r, set()).add(node_of_pkey[pk])
    for r in adjacency:
        batch_node(r)
    stored_nodes = [nodes[n + j] for j in range(len(stored_ids))]
    for node, shingles in zip(
        stored_nodes, minhash.shingle_sets([x.key for x in stored_nodes], SHINGLE), strict=True
    ):
        node.shingles = shingles
    return nodes, stored_ids, adjacency


# Stored keys compared at once (`_confirmed`): bounds their shingle hashes, ~8 bytes per
# character; and candidate pairs compared at once: bounds the pairs' two lists of shingle
# hashes side by side (~2.5 KB a pair: ~5 MB at once).
CONFIRM_SLICE_CHARS = 1 << 20
CONFIRM_PAIRS = 2048


def _confirmed(stored: Stored, keys: list[str], batch_sets: dict[int, np.ndarray]) -> Stored:
    """The stored candidates that bear a relation (`_relation`) to their batch row, and
    the keys of those only, ordered by paragraph id (the order of their nodes).

    A wave of 10,000 paragraphs against the 1 GB load's index gets ~58,000 candidate pairs
    over ~30,000 stored paragraphs: LSH and anchor collisions of paragraphs on one topic,
    of which a few hundred bear a relation (5 for a wave of another corpus seed). Built as
    nodes, their shingle sets raised the flow process by ~200 MB per wave. Here the stored
    keys are compared a slice at a time, all pairs of a slice at once (`_related`), and
    only the related ones become nodes: 0.37 s for that wave, against 0.82 s one pair at a
    time. A pair without a relation changes nothing in `_assign`, so leaving it out
    changes no result.
    """
    by_pkey = stored.keys.sort("pkey")
    pkeys = by_pkey["pkey"].to_numpy()
    # A row with a stored exact copy is marked by it, whatever else it resembles.
    pairs = (
        stored.pairs.join(stored.exact.select("row"), on="row", how="anti")
        .filter(pl.col("pkey").is_in(by_pkey["pkey"].implode()))
        .sort("pkey", "row")
    )
    if pairs.height == 0:
        return Stored(exact=stored.exact, pairs=pairs, keys=by_pkey.clear())
    pair_rows, pair_pkeys = pairs["row"].to_numpy(), pairs["pkey"].to_numpy()
    related = np.zeros(pairs.height, dtype=bool)
    key_chars = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
    lengths = by_pkey["norm_key"].str.len_chars().to_numpy()
    for start, stop in minhash.char_slices(lengths, CONFIRM_SLICE_CHARS):
        first = int(np.searchsorted(pair_pkeys, pkeys[start]))
        last = int(np.searchsorted(pair_pkeys, pkeys[stop - 1], "right"))
        if first == last:
            continue
        shingles = minhash.shingle_hashes(by_pkey["norm_key"].slice(start, stop - start).to_list(), SHINGLE)
        stored_lists = minhash.as_lists(shingles.hashes, shingles.offsets)
        stored_sizes = minhash.set_sizes(stored_lists)
        for lo in range(first, last, CONFIRM_PAIRS):
            hi = min(lo + CONFIRM_PAIRS, last)
            rows = pair_rows[lo:hi]
            sets = [batch_sets[r] for r in rows.tolist()]
            sizes = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
            at = np.searchsorted(pkeys[start:stop], pair_pkeys[lo:hi])
            shared = minhash.shared_counts(
                minhash.as_lists(np.concatenate(sets), np.r_[0, np.cumsum(sizes)]), stored_lists.gather(at)
            )
            related[lo:hi] = _related(key_chars[rows], lengths[start + at], sizes, stored_sizes[at], shared)
    confirmed = pairs.filter(related)
    return Stored(
        exact=stored.exact,
        pairs=confirmed,
        keys=by_pkey.join(confirmed.select("pkey").unique(), on="pkey", how="semi").sort("paragraph_id"),
    )


def _related(
    chars: np.ndarray, other_chars: np.ndarray, size: np.ndarray, other_size: np.ndarray, shared: np.ndarray
) -> np.ndarray:
    """`_relation(...) is not None` for many pairs at once, from each pair's key lengths,
    shingle-set sizes and shared shingles: the same comparisons of the same float ratios
    (tests/test_dedup.py checks that they agree)."""
    inside = (chars >= MIN_FRAGMENT_CHARS) & (chars <= FRAGMENT_MAX_SHARE * other_chars)
    fragment = ~inside & (other_chars >= MIN_FRAGMENT_CHARS) & (other_chars <= FRAGMENT_MAX_SHARE * chars)
    # Sizes of 0 (no shingle: an empty key) give 0.0, as `minhash.containment` and `jaccard`.
    with np.errstate(divide="ignore", invalid="ignore"):
        contained = np.where(size > 0, shared / size, 0.0)
        contains = np.where(other_size > 0, shared / other_size, 0.0)
        jaccard = np.where((size > 0) & (other_size > 0), shared / (size + other_size - shared), 0.0)
    return (
        (inside & (contained >= CONTAINED_SHARE))
        | (fragment & (contains >= CONTAINED_SHARE))
        | (jaccard >= NEAR_JACCARD)
    )


_STATUSES = ("unique", "exact", "near", "contained")
_METHODS = (None, METHOD_EXACT, METHOD_NEAR, METHOD_CONTAINED)


@dataclass
class _Marks:
    """The outcome per batch row, as arrays (no object per row)."""

    status: np.ndarray  # int8, index into _STATUSES
    dup_of: np.ndarray  # int64 node id of the kept paragraph, -1 for none
    similarity: np.ndarray  # float64, NaN for none

    @classmethod
    def of(cls, nodes: dict[int, _Node], n: int, rep: np.ndarray) -> _Marks:
        status = np.zeros(n, dtype=np.int8)
        dup_of = np.full(n, -1, dtype=np.int64)
        similarity = np.full(n, np.nan)
        for i, node in nodes.items():
            if i < n and node.dup_of is not None:
                status[i], dup_of[i] = _STATUSES.index(node.status), node.dup_of
                similarity[i] = node.similarity
        # Copies follow their representative: exact of it if it is kept, else what it is.
        copies = np.flatnonzero(rep != np.arange(n))
        head = rep[copies]
        kept = status[head] == 0
        status[copies] = np.where(kept, _STATUSES.index("exact"), status[head])
        dup_of[copies] = np.where(kept, head, dup_of[head])
        similarity[copies] = np.where(kept, 1.0, similarity[head])
        return cls(status, dup_of, similarity)


def _with_provenance(
    ordered: pl.DataFrame, marks: _Marks, nodes: dict[int, _Node], stored_ids: list[str], hashes: list[str]
) -> pl.DataFrame:
    n = ordered.height
    all_ids = pl.concat([ordered["paragraph_id"], pl.Series(stored_ids, dtype=pl.String)])
    # A kept paragraph's cluster: itself and every batch or stored paragraph pointing at it.
    demoted = [node.dup_of for i, node in nodes.items() if i >= n and node.dup_of is not None]
    pointing = np.concatenate([marks.dup_of, np.array(demoted, dtype=np.int64)])
    members = np.bincount(pointing[pointing >= 0], minlength=n)[:n]
    status = pl.Series(marks.status)
    return ordered.with_columns(
        pl.lit(NORM_VERSION, dtype=pl.Int32).alias("norm_version"),
        pl.Series("norm_hash", hashes, dtype=pl.String),
        status.replace_strict(dict(enumerate(_STATUSES)), return_dtype=pl.String).alias("dup_status"),
        all_ids.gather(pl.Series(marks.dup_of).replace(-1, None)).alias("dup_of"),
        pl.Series("similarity", marks.similarity, dtype=pl.Float64).fill_nan(None),
        status.replace_strict(dict(enumerate(_METHODS)), return_dtype=pl.String).alias("dup_method"),
        pl.Series("cluster_size", np.where(marks.status == 0, 1 + members, 1), dtype=pl.Int32),
    )


def index_rows(kept: np.ndarray, keyed: pl.DataFrame, sk: Sketches) -> dict[str, pl.DataFrame]:
    """dedup_keys / dedup_bands / dedup_anchors rows of the rows `kept`: what later runs match.

    `kept` is a boolean mask over the rows of `keyed` (paragraph_id, norm_hash, norm_key);
    sketch rows are selected by that mask, not by joins (no hash tables over the sketches).
    """
    rows = np.flatnonzero(kept)
    pkeys = np.fromiter(
        map(pkey, keyed["paragraph_id"].gather(rows).to_list()), dtype=np.int64, count=len(rows)
    )
    pkey_of_row = np.zeros(len(kept), dtype=np.int64)
    pkey_of_row[rows] = pkeys
    n_anchors = np.zeros(len(kept), dtype=np.int32)
    n_anchors[sk.n_anchors["row"].to_numpy()] = sk.n_anchors["n_anchors"].to_numpy()

    def of_kept(sketch_rows: pl.DataFrame, *columns: str) -> pl.DataFrame:
        row = sketch_rows["row"].to_numpy()
        mine = kept[row]
        return sketch_rows.filter(mine).select(*columns, pl.Series("pkey", pkey_of_row[row[mine]]))

    return {
        "dedup_keys": keyed[rows].select(
            pl.Series("pkey", pkeys),
            "paragraph_id",
            pl.lit(NORM_VERSION, dtype=pl.Int32).alias("norm_version"),
            "norm_hash",
            "norm_key",
            pl.Series("n_anchors", n_anchors[rows]),
        ),
        "dedup_bands": of_kept(sk.buckets, "band", "bucket"),
        "dedup_anchors": of_kept(sk.anchors, "anchor"),
    }


def index_all(paragraph_ids: list[str], texts: pl.Series) -> dict[str, pl.DataFrame]:
    """Index rows for paragraphs all known to be kept (rebuilding the index for a new key version)."""
    key_series = norm_keys(texts)
    keys = key_series.to_list()
    rows = np.array([i for i, k in enumerate(keys) if len(k) >= MIN_SKETCH_CHARS], dtype=np.int64)
    sk = sketch([keys[i] for i in rows.tolist()], rows)
    keyed = pl.DataFrame(
        {"paragraph_id": paragraph_ids, "norm_hash": [norm_hash(k) for k in keys], "norm_key": key_series},
        schema={"paragraph_id": pl.String, "norm_hash": pl.String, "norm_key": pl.String},
    )
    return index_rows(np.ones(len(keys), dtype=bool), keyed, sk)


def _history_updates(nodes: dict[int, _Node], demoted: list[int], batch_dup_of: np.ndarray) -> pl.DataFrame:
    rows = [
        {
            "paragraph_id": nodes[d].paragraph_id,
            "dup_of": nodes[nodes[d].dup_of].paragraph_id,  # type: ignore[index]
            "similarity": nodes[d].similarity,
            "dup_method": METHOD_CONTAINED,
        }
        for d in demoted
    ]
    # Stored kept paragraphs that batch paragraphs now point at (stored node ids are >= n).
    grown = {nodes[int(i)].paragraph_id for i in np.unique(batch_dup_of[batch_dup_of >= len(batch_dup_of)])}
    rows += [
        {"paragraph_id": p, "dup_of": None, "similarity": None, "dup_method": None} for p in sorted(grown)
    ]
    return pl.DataFrame(rows, schema=HISTORY_UPDATE_SCHEMA)


def loadable_index(index: dict[str, pl.DataFrame], paragraphs: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The index rows (and history updates) of the paragraphs that passed validation."""
    if not index:
        return {}
    loaded = paragraphs.select("paragraph_id")
    keys = index["dedup_keys"].join(loaded, on="paragraph_id", how="semi")
    kept = keys.select("pkey")
    # A stored fragment is demoted only if the complete paragraph that demotes it is loaded.
    updates = index["dedup_updates"].filter(
        pl.col("dup_of").is_null() | pl.col("dup_of").is_in(loaded["paragraph_id"].implode())
    )
    return {
        "dedup_keys": keys,
        "dedup_bands": index["dedup_bands"].join(kept, on="pkey", how="semi"),
        "dedup_anchors": index["dedup_anchors"].join(kept, on="pkey", how="semi"),
        "dedup_updates": updates,
    }
