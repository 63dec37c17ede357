"""Vectorised sketches of normalisation keys: MinHash LSH bands and winnowing anchors.

Everything works on a whole batch of keys at once: the keys are laid end to end as one
array of code points, shingle hashes are computed with numpy arithmetic (no Python loop
per character), and rensa computes the MinHash signatures from one flat buffer.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
from rensa import RMinHash


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, in place: spreads structured 64-bit values (packed code points) evenly.

    In place (uint64 arithmetic wraps), so a pass over a large array allocates one temporary.
    """
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


@dataclass(frozen=True)
class Shingles:
    """Hashed k-character shingles of many keys: `hashes[offsets[i]:offsets[i+1]]` is key i."""

    hashes: np.ndarray  # uint64
    offsets: np.ndarray  # int64, len(keys) + 1


def shingle_hashes(keys: list[str], k: int) -> Shingles:
    """Hash every k-character window of every key; a key shorter than k is one shingle.

    Code points (< 2**21) of a window are packed into one integer (k <= 3 fits 63 bits; a
    longer k folds the window with the mixer), then mixed, so equal windows hash equally
    in every key and every run.
    """
    lengths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
    starts = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    total = int(starts[-1])
    # Zero padding so windows at the very end never read past the array.
    cps = np.zeros(total + k, dtype=np.uint64)
    cps[:total] = np.frombuffer("".join(keys).encode("utf-32-le"), dtype=np.uint32)
    hashed = cps[:total].copy()
    for j in range(1, k):
        if j % 3 == 0:
            _mix64(hashed)
        hashed <<= np.uint64(21)
        hashed |= cps[j : j + total]
    del cps
    hashed += np.uint64(k)
    _mix64(hashed)
    # A window is valid when it ends inside its key: the last k - 1 windows of a key are
    # not, except that a key shorter than k keeps its first window.
    valid = np.ones(total, dtype=bool)
    for j in range(1, k):
        valid[starts[1:][lengths > j] - j] = False
    counts = np.where(lengths >= k, lengths - k + 1, np.minimum(lengths, 1))
    short = (lengths > 0) & (lengths < k)
    for i in np.flatnonzero(short):
        # Short key: its single window holds the key and zero padding (not the next key).
        padded = keys[i] + "\0" * (k - len(keys[i]))
        hashed[starts[i]] = shingle_hashes([padded], k).hashes[0]
    offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return Shingles(hashed[valid], offsets)


def lsh_buckets(shingles: Shingles, bands: int, rows: int, seed: int) -> np.ndarray:
    """(n_keys, bands) int64 bucket ids: each band's `rows` MinHash values hashed together.

    Two keys share a bucket in some band with probability 1 - (1 - J**rows)**bands, J their
    shingle Jaccard. Keys without shingles get all-zero signatures; callers skip them.
    """
    n = len(shingles.offsets) - 1
    if n == 0:
        return np.zeros((0, bands), dtype=np.int64)
    matrix = RMinHash.digest_matrix_from_flat_token_hashes(
        shingles.hashes, shingles.offsets.astype(np.uint64), bands * rows, seed
    )
    sig = np.asarray(matrix.to_rows(), dtype=np.uint64).reshape(n, bands, rows)
    acc = np.arange(bands, dtype=np.uint64)[None, :].repeat(n, axis=0) * np.uint64(0x9E3779B97F4A7C15)
    for j in range(rows):
        acc = _mix64(acc ^ sig[:, :, j])
    return acc.view(np.int64)


def _window_min(h: np.ndarray, window: int) -> np.ndarray:
    """Minimum of every `window` consecutive values (len(h) - window + 1 of them).

    By doubling: minima over 1, 2, 4, ... values, combined along the bits of `window`,
    so a pass costs O(len(h)) whatever the window, about log2(window) + popcount passes.
    """
    count = len(h) - window + 1
    result: np.ndarray | None = None
    covered, span, power = 0, 1, h  # power[i] = min(h[i : i + span])
    while covered < window:
        if window & span:
            part = power[covered : covered + count]
            result = part.copy() if result is None else np.minimum(result, part, out=result)
            covered += span
        if covered < window:
            power = np.minimum(power[:-span], power[span:])
            span *= 2
    assert result is not None
    return result


def winnow(shingles: Shingles, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Winnowing fingerprints (Schleimer et al. 2003): (key index, anchor hash) pairs.

    The minimum hash of every `window` consecutive shingles is an anchor. Anchors depend
    only on local content, so any shared substring of at least window + k - 1 characters
    yields a shared anchor, and every anchor of an exact fragment is an anchor of the
    paragraph it was cut from. A key with fewer than `window` shingles keeps its minimum.
    Each (key index, anchor) pair comes once, in the order first found.
    """
    h, off = shingles.hashes, shingles.offsets
    n = len(off) - 1
    counts = np.diff(off)
    rows_out, hashes_out = [], []
    if len(h) >= window:
        mins = _window_min(h, window)
        # Keep the windows that lie inside one key: a key's last window - 1 starts do not.
        inside = np.ones(len(mins), dtype=bool)
        for j in range(1, window):
            ends = off[1:][counts >= j] - j
            inside[ends[ends < len(mins)]] = False
        rows_out.append(np.repeat(np.arange(n, dtype=np.int64), np.maximum(counts - window + 1, 0)))
        hashes_out.append(mins[inside])
    short = np.flatnonzero((counts > 0) & (counts < window))
    if len(short):
        mins = np.minimum.reduceat(h, off[:-1][counts > 0])
        nonempty = np.flatnonzero(counts > 0)
        pick = np.isin(nonempty, short)
        rows_out.append(nonempty[pick])
        hashes_out.append(mins[pick])
    if not rows_out:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # Consecutive windows mostly share their minimum: drop those repeats first (cheap), then
    # the few left (a stretch of text repeated further on), keeping first occurrences.
    rows, hashes = np.concatenate(rows_out), np.concatenate(hashes_out).view(np.int64)
    fresh = np.ones(len(rows), dtype=bool)
    fresh[1:] = (rows[1:] != rows[:-1]) | (hashes[1:] != hashes[:-1])
    rows, hashes = rows[fresh], hashes[fresh]
    # Sorted by hash alone (stable), a key's repeats are neighbours: rows ascend through the
    # windowed part and a short key has a single anchor, appended after it.
    order = np.argsort(hashes, kind="stable")
    repeat = (hashes[order][1:] == hashes[order][:-1]) & (rows[order][1:] == rows[order][:-1])
    fresh = np.ones(len(rows), dtype=bool)
    fresh[order[1:][repeat]] = False
    return rows[fresh], hashes[fresh]


def shingle_set(key: str, k: int) -> frozenset[str]:
    """The k-character shingles of one key, for confirming a candidate pair exactly."""
    if len(key) <= k:
        return frozenset((key,)) if key else frozenset()
    return frozenset(key[i : i + k] for i in range(len(key) - k + 1))


def shingle_sets(keys: list[str], k: int, slice_chars: int = 1 << 20) -> list[np.ndarray]:
    """The k-character shingles of each key as the sorted array of their distinct hashes.

    For k <= 3 the hash is one-to-one on shingles (up to three 21-bit code points packed
    into 63 bits, then the bijective mixer; keys hold no NUL, the padding of a short key),
    so set sizes and intersections, hence `jaccard` and `containment`, equal those of
    `shingle_set`'s strings, without a Python string per shingle. Arrays, not sets of
    Python ints (frozensets of a wave's ~40,000 candidates took ~400 MB). Hashed about
    `slice_chars` characters at a time: the hashing takes ~24 bytes per character at once.
    """
    if k > 3:
        raise ValueError(f"shingle hashes are one-to-one only for k <= 3, not {k}")
    sets: list[np.ndarray] = []
    for start, stop in char_slices(np.fromiter(map(len, keys), dtype=np.int64, count=len(keys)), slice_chars):
        shingles = shingle_hashes(keys[start:stop], k)
        # One np.unique per key: half the time of frozensets, a fifth of one lexsort of all.
        sets += [np.unique(shingles.hashes[a:b]) for a, b in itertools.pairwise(shingles.offsets.tolist())]
    return sets


def as_lists(hashes: np.ndarray, offsets: np.ndarray) -> pl.Series:
    """Keys' shingle hashes laid end to end (`Shingles`, or sets concatenated) as one polars
    list per key, without a Python object per hash."""
    return pl.Series(pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(hashes)))


def set_sizes(lists: pl.Series) -> np.ndarray:
    """How many distinct hashes each list (`as_lists`) holds: the size of its set."""
    return lists.list.n_unique().to_numpy().astype(np.int64)


def shared_counts(sets: pl.Series, others: pl.Series) -> np.ndarray:
    """For lists of shingle hashes side by side (`as_lists`): how many distinct hashes each
    pair shares.

    In Rust, all pairs at once: one `np.intersect1d` per pair (and one `np.unique` per
    key for its set) cost ~15 µs of Python and numpy overhead each.
    """
    return sets.list.set_intersection(others).list.len().to_numpy().astype(np.int64)


def char_slices(lengths: np.ndarray, slice_chars: int) -> list[tuple[int, int]]:
    """(start, stop) of runs of consecutive keys of about `slice_chars` characters together."""
    if len(lengths) == 0:
        return []
    ends = np.cumsum(lengths)
    return list(
        itertools.pairwise([0, *(np.flatnonzero(np.diff(ends // slice_chars)) + 1).tolist(), len(lengths)])
    )


def shared(a: frozenset | np.ndarray, b: frozenset | np.ndarray) -> int:
    """How many shingles two sets share: hashed (`shingle_sets`) or strings (`shingle_set`)."""
    if isinstance(a, np.ndarray):
        return np.intersect1d(a, b, assume_unique=True).size
    return len(a & b)


def jaccard(a: frozenset | np.ndarray, b: frozenset | np.ndarray) -> float:
    return jaccard_of(shared(a, b), len(a), len(b))


def containment(part: frozenset | np.ndarray, whole: frozenset | np.ndarray) -> float:
    """Share of `part`'s shingles found in `whole`."""
    return containment_of(shared(part, whole), len(part))


# The measures from a shared count already found: a pair's containment and Jaccard are
# ratios of the same intersection (`dedup._relation` computes it once for both).


def jaccard_of(shared: int, size_a: int, size_b: int) -> float:
    if not size_a or not size_b:
        return 0.0
    return shared / (size_a + size_b - shared)


def containment_of(shared: int, part_size: int) -> float:
    return shared / part_size if part_size else 0.0
