"""jieba's precise mode (HMM on) over a compact copy of its dictionary: the same words.

jieba keeps its dictionary as a Python dict of every word and every prefix of a word
(498,297 strings with the region's user dictionary: ~65 MB in each process that cuts
text) and finds the words that start at each character by walking that dict one
character at a time, in Python. A `Lexicon` holds only the words (frequency > 0) in a
MARISA trie, mapped from a file (1.3 MB, its pages shared by every process that maps it),
with each word's log-probability in an array (2.8 MB), and finds all the words
starting at a position in one call into the trie.

The cut is jieba's own (`jieba.Tokenizer.cut`, 0.42.1), step for step: text split into
runs of Han, letters and digits, each run's most probable route over the words (the same
sums of the same floats, ties going to the longer word, as jieba's `max` over
(probability, end) pairs does), runs of single characters the dictionary does not hold
cut by jieba's HMM (`jieba.finalseg`: its model, its Viterbi path, its ties; written out
for its four states, ~3x as fast), and everything else split as jieba splits it.
`Lexicon.lcut(text) == tokenizer.lcut(text)` for the tokenizer it was made from:
tests/test_lexicon.py checks it on the seeds, a generated corpus and odd input.

That is still Python, one character at a time. A lexicon given `fast_runs` (the pipeline's
`tokenize.segmenter()`: jieba-rs, a Rust port of jieba, ~10x as fast) hands it the runs
it cuts as jieba does, and cuts the others itself:
- jieba's split of the text into runs is kept (above): jieba-rs's runs take Han beyond
  U+9FD5 too (㐀, 𠀀), which jieba yields one character at a time;
- runs with ".", "_" or "-" stay here: jieba's HMM splits a run of single characters at
  them (2022 / - / 02 / - / 08), jieba-rs keeps it whole (2022-02-08);
- a text with none of those characters goes to jieba-rs whole (`rust_cuts_whole`): it
  splits it into the same runs, and the split and one call per run here cost as much as
  jieba-rs's whole cut (97 % of the 100 MB corpus's texts).
One difference is left, and cannot be routed around: two routes over the same words in
another order (区 / 人人 / 人 and 区 / 人 / 人人) whose log-probabilities, summed in another
order, differ in the last bit; jieba-rs may take the other. Measured: 1 text of the
156,549 of the 100 MB corpus (29.4 M characters), none of the seeds or 1 MB corpora.
"""

from __future__ import annotations

import array
import hashlib
import json
import math
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import jieba
import marisa_trie
from jieba import finalseg

# jieba's own patterns for precise mode (`cut_all=False`).
_HAN = jieba.re_han_default
_SKIP = jieba.re_skip_default

# The files of a saved lexicon; FORMAT names their layout (a cache of another is not read).
FORMAT = 2
_WORDS, _LOG_PROB, _META = "words.marisa", "log_prob.f64", "meta.json"


class Lexicon:
    """jieba's words and their log-probabilities, indexed by the trie's key ids."""

    def __init__(self, words: marisa_trie.Trie, log_prob: array.array, total: int, max_length: int) -> None:
        self.words = words
        self.log_prob = log_prob  # log(frequency) - log(total): jieba's term, computed once
        self.total = total
        self.max_length = max_length  # characters of the longest word
        # A character that starts no word stands alone with jieba's frequency "or 1".
        self.unknown_log_prob = math.log(1) - math.log(total)
        self._prefixes = words.iter_prefixes_with_ids
        # What cuts most runs instead of `_cut_run` (see the module's docstring), if set.
        self.fast_runs: Callable[[str], list[str]] | None = None

    @classmethod
    def of(cls, tokenizer: jieba.Tokenizer) -> Lexicon:
        """The words of an initialized tokenizer (its user dictionary included)."""
        tokenizer.check_initialized()
        freq = tokenizer.FREQ
        words = [word for word, count in freq.items() if count]  # the rest are prefixes only
        trie = marisa_trie.Trie(words)
        log_total = math.log(tokenizer.total)
        log_prob = array.array("d", bytes(8 * len(trie)))
        for word in words:
            log_prob[trie[word]] = math.log(freq[word]) - log_total
        return cls(trie, log_prob, tokenizer.total, max(map(len, words), default=1))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.words.save(str(directory / _WORDS))
        (directory / _LOG_PROB).write_bytes(self.log_prob.tobytes())
        meta = {"format": FORMAT, "total": self.total, "max_length": self.max_length}
        (directory / _META).write_text(json.dumps(meta))

    @classmethod
    def open(cls, directory: Path) -> Lexicon:
        """A saved lexicon, its trie mapped from the file rather than read."""
        meta = json.loads((directory / _META).read_text())
        if meta.get("format") != FORMAT:
            raise ValueError(f"{directory} holds a lexicon of format {meta.get('format')}, not {FORMAT}")
        words = marisa_trie.Trie()
        words.mmap(str(directory / _WORDS))
        log_prob = array.array("d")
        log_prob.frombytes((directory / _LOG_PROB).read_bytes())
        if len(words) != len(log_prob):
            raise ValueError(
                f"{directory} holds a damaged lexicon: its files disagree on the number of words"
            )
        return cls(words, log_prob, meta["total"], meta["max_length"])

    def lcut(self, text: str) -> list[str]:
        """The words of `text`, as `jieba.Tokenizer.lcut(text)` cuts them (but the near-ties
        of `fast_runs`)."""
        if self.fast_runs is not None and rust_cuts_whole(text):
            return self.fast_runs(text)  # jieba-rs splits it into the same runs: one call
        words: list[str] = []
        for block in _HAN.split(text):
            if not block:
                continue
            if _HAN.match(block):
                if self.fast_runs is None or rust_may_differ(block):
                    self._cut_run(block, words)
                else:
                    words.extend(self.fast_runs(block))
            else:
                for part in _SKIP.split(block):
                    if _SKIP.match(part):
                        words.append(part)
                    else:
                        words.extend(part)  # one character at a time, as jieba yields them
        return words

    def _cut_run(self, run: str, words: list[str]) -> None:
        """Append the words of one run of Han, letters and digits (jieba's `__cut_DAG`)."""
        n = len(run)
        # The best route from each position to the end: its log-probability and where its
        # first word ends. Built backwards, as jieba's `calc` does, with the candidates of
        # each position (jieba's DAG) found as they are needed.
        score = [0.0] * (n + 1)
        end = [0] * (n + 1)
        prefixes, log_prob, longest = self._prefixes, self.log_prob, self.max_length
        for start in range(n - 1, -1, -1):
            best, best_end = -math.inf, 0
            for word, key in prefixes(run[start : start + longest]):  # shortest first
                stop = start + len(word)
                value = log_prob[key] + score[stop]
                if value >= best:  # a tie goes to the longer word, as in jieba's max()
                    best, best_end = value, stop
            if best_end:
                score[start], end[start] = best, best_end
            else:
                score[start], end[start] = self.unknown_log_prob + score[start + 1], start + 1
        single = ""  # consecutive one-character words, handed to the HMM together
        at = 0
        while at < n:
            stop = end[at]
            if stop - at == 1:
                single += run[at]
            else:
                if single:
                    words.extend(self._singles(single))
                    single = ""
                words.append(run[at:stop])
            at = stop
        if single:
            words.extend(self._singles(single))

    def _singles(self, chars: str) -> Iterable[str]:
        """One-character words in a row: jieba's HMM finds the words among them that the
        dictionary does not hold; a run that is itself a word stays cut in characters."""
        if len(chars) == 1:
            return (chars,)
        if chars not in self.words:
            return hmm_words(chars)
        return chars


# What jieba's HMM splits a run of single characters at, and jieba-rs does not.
_SPLIT_BY_JIEBA_ONLY = re.compile(r"[._\-]")


def rust_may_differ(run: str) -> bool:
    """Whether jieba-rs may cut this run (of jieba's run characters) otherwise than jieba."""
    return _SPLIT_BY_JIEBA_ONLY.search(run) is not None


# Texts jieba-rs splits into runs as jieba does: of jieba's run characters only those it
# cuts as jieba does (not . _ -), and around them only whitespace, ASCII, Latin-1,
# general, CJK and full-width punctuation and symbols, none of which either puts in a run.
# Han beyond U+9FD5 (jieba-rs takes it into runs) and any other script take the runs
# split here. Most of a newspaper's paragraphs qualify; dates and decimals do not.
_CUT_WHOLE_BY_RUST = re.compile(
    r"[\u4e00-\u9fd5a-zA-Z0-9+#&%\s!\"$'()*,/:;<=>?@\[\\\]^`{|}~"
    r"\u00a0-\u00bf\u00d7\u00f7\u2000-\u206f\u3000-\u303f\uff00-\uffef]*"
)


def rust_cuts_whole(text: str) -> bool:
    """Whether jieba-rs, given the whole `text`, splits it into the runs jieba does and cuts
    every run as jieba does (but near-ties)."""
    return _CUT_WHOLE_BY_RUST.fullmatch(text) is not None


def hmm_words(chars: str) -> list[str]:
    """`list(jieba.finalseg.cut(chars))`: runs of Han characters cut by the HMM, the rest
    split into runs of letters and digits as finalseg splits them."""
    words: list[str] = []
    for block in finalseg.re_han.split(chars):
        if finalseg.re_han.match(block):
            for word in _hmm_cut(block):
                if word in finalseg.Force_Split_Words:
                    words.extend(word)
                else:
                    words.append(word)
        else:
            words.extend(part for part in finalseg.re_skip.split(block) if part)
    return words


def _hmm_cut(han: str) -> list[str]:
    """Words of a run of Han characters from its HMM states: a word ends at E or S."""
    words: list[str] = []
    begin = next_word = 0
    for i, state in enumerate(_viterbi_states(han)):
        if state == "B":
            begin = i
        elif state == "E":
            words.append(han[begin : i + 1])
            next_word = i + 1
        elif state == "S":
            words.append(han[i])
            next_word = i + 1
    if next_word < len(han):
        words.append(han[next_word:])
    return words


# finalseg's model: each state's start and emission log-probabilities, and the log-
# probability of each transition its Viterbi considers (a state's PrevStatus).
_MIN = finalseg.MIN_FLOAT
_START = finalseg.start_P
_EMIT_B, _EMIT_M, _EMIT_E, _EMIT_S = (finalseg.emit_P[state] for state in "BMES")


def _transition(before: str, after: str) -> float:
    return finalseg.trans_P[before].get(after, _MIN)


_E_B, _S_B = _transition("E", "B"), _transition("S", "B")
_M_M, _B_M = _transition("M", "M"), _transition("B", "M")
_B_E, _M_E = _transition("B", "E"), _transition("M", "E")
_S_S, _E_S = _transition("S", "S"), _transition("E", "S")
_STATE_INDEX = {"B": 0, "M": 1, "E": 2, "S": 3}


def _viterbi_states(han: str) -> list[str]:
    """finalseg.viterbi's path: the same sums in the same order, and its ties. It takes
    `max` of (probability, previous state) pairs, so a tie goes to the later letter.

    The four states are written out, not looped over: finalseg's loop over states and
    their predecessors, building tuples and path lists per character, is what made it slow.
    """
    first = han[0]
    b = _START["B"] + _EMIT_B.get(first, _MIN)
    m = _START["M"] + _EMIT_M.get(first, _MIN)
    e = _START["E"] + _EMIT_E.get(first, _MIN)
    s = _START["S"] + _EMIT_S.get(first, _MIN)
    previous: list[tuple[str, str, str, str]] = []  # per character after the first: of B, M, E, S
    for char in han[1:]:
        emit = _EMIT_B.get(char, _MIN)
        x, y = e + _E_B + emit, s + _S_B + emit
        next_b, from_b = (x, "E") if x > y else (y, "S")
        emit = _EMIT_M.get(char, _MIN)
        x, y = m + _M_M + emit, b + _B_M + emit
        next_m, from_m = (x, "M") if x >= y else (y, "B")
        emit = _EMIT_E.get(char, _MIN)
        x, y = b + _B_E + emit, m + _M_E + emit
        next_e, from_e = (x, "B") if x > y else (y, "M")
        emit = _EMIT_S.get(char, _MIN)
        x, y = s + _S_S + emit, e + _E_S + emit
        next_s, from_s = (x, "S") if x >= y else (y, "E")
        previous.append((from_b, from_m, from_e, from_s))
        b, m, e, s = next_b, next_m, next_e, next_s
    state = "E" if e > s else "S"  # the path ends in E or S
    states = [state]
    for step in reversed(previous):
        state = step[_STATE_INDEX[state]]
        states.append(state)
    states.reverse()
    return states


def cached(cache_root: Path, sources: Iterable[Path], build: Callable[[], jieba.Tokenizer]) -> Lexicon:
    """The lexicon of the tokenizer `build()` makes from the dictionary files `sources`,
    saved under `cache_root` the first time and opened from there after.

    Named by a hash of the sources' bytes, jieba's version and FORMAT: a changed user
    dictionary gets a lexicon of its own. Saved to a directory of its own and renamed into
    place, so a process never opens a half-written one, and processes building it at the
    same time keep whichever was renamed first (they are the same).
    """
    digest = hashlib.sha256(f"{FORMAT} {jieba.__version__}".encode())
    for source in sources:
        digest.update(source.read_bytes())
    directory = cache_root / f"lexicon-{digest.hexdigest()[:24]}"
    if not (directory / _META).exists():
        cache_root.mkdir(parents=True, exist_ok=True)
        with _scratch_directory(cache_root) as scratch:
            Lexicon.of(build()).save(scratch)
            try:
                scratch.rename(directory)
            except OSError:  # another process got there first
                if not (directory / _META).exists():
                    raise
        _drop_old_lexicons(cache_root)
    return Lexicon.open(directory)


# Lexicons kept in a cache root: the one just built and the newest others (another
# checkout's user dictionary, another jieba), so that two of them in turn do not rebuild
# each other's. Each is ~4 MB.
KEEP_LEXICONS = 4


def _drop_old_lexicons(cache_root: Path) -> None:
    """Remove all but the KEEP_LEXICONS newest lexicons under `cache_root` (a process that
    still has one open keeps its mapped trie; its array was read)."""
    saved = sorted(cache_root.glob("lexicon-*"), key=lambda d: d.stat().st_mtime, reverse=True)
    for old in saved[KEEP_LEXICONS:]:
        shutil.rmtree(old, ignore_errors=True)


@contextmanager
def _scratch_directory(root: Path) -> Iterator[Path]:
    """A new directory under `root`, removed at the end unless it was renamed away."""
    path = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def default_cache_root() -> Path:
    """Where lexicons are kept: beside jieba's own cache, in the system's temporary directory."""
    return Path(tempfile.gettempdir()) / "newsetl-lexicon"
