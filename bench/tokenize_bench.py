"""The tokenize stage against jieba alone, on the texts a load really segments.

    uv run python -m bench.tokenize_bench                  # the 10 MB corpus, about a minute
    uv run python -m bench.tokenize_bench --inbox DIR --reps 1

The texts are prepared once per inbox by the pure stage functions (decode, clean, repair,
segment, the frames, dedup without history, `texts_to_tokenize`; all files in one batch,
so about 1 GB of memory per 10 MB) and cached as Parquet under /tmp (delete it after
changing those stages), so a rerun times only the tokenizing. Then, on the same texts:

- `lcut`: jieba alone, the bound (same tokenizer, HMM on, user dictionary), the
  pipeline's `Lexicon` cutting every run itself, whose words must be jieba's, and the
  pipeline's segmenter (`tokenize.segmenter()`: the lexicon with jieba-rs cutting most
  runs, flows/steps/lexicon.py), whose words are jieba's but for near-ties (counted);
- beyond lcut: the stage's own cost, with jieba's cuts replayed from the `lcut` run
  (jieba varies by ±10 % from run to run on a shared machine, more than the stage adds,
  so "stage minus lcut" would mostly measure noise): the `reference`, the stage as it
  was before issue 8's rework (a copy, below, kept only to time it and to check the new
  stage against it), and the `stage` as the tokenize task runs it:
  `flows.steps.tokenize.cut_word_lists`, `words_of` and `article_keywords`, then the
  rest of the task (the contracts);
- end to end, with jieba really cutting: the reference and the stage once each.

Timed parts run `--reps` times, the best counts. The stage's tokens and keywords must
equal the reference's (values, order, dtypes), replayed, and end to end when the
segmenter's words are all jieba's.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jieba
import polars as pl
from polars.testing import assert_frame_equal

from flows.steps import clean, decode, discover, repair, segment
from flows.steps import tokenize as stage
from flows.steps.dedup import mark_duplicates, no_history
from flows.steps.model import ParsedDocument
from flows.steps.tables import articles_frame, documents_frame, paragraphs_frame
from flows.tasks import Batch, texts_to_tokenize
from flows.text_work import check_words

DEFAULT_INBOX = Path(__file__).resolve().parents[1] / "bench-out" / "corpus-10mb-seed8"
MAIN_INBOX = Path("/work/main/bench-out/corpus-10mb-seed8")  # the shared corpus, when not generated here


def parse_page(doc: ParsedDocument) -> None:
    """decode -> clean -> repair -> segment of one file, as the flow's per-file tasks do."""
    data = discover.read_source(doc.file)
    if data is None:
        return
    try:
        text = decode.decode_bytes(data).text
    except decode.DecodeError as exc:
        doc.file.reject_reason = str(exc)
        return
    page = clean.clean_page(text)
    doc.meta = page.meta
    doc.articles = segment.segment_page(repair.repair_blocks(page.blocks), page.meta)
    if not doc.articles:
        doc.file.reject_reason = "no text"


def texts_of(inbox: Path) -> pl.DataFrame:
    """The rows a load of `inbox` into an empty warehouse hands to the tokenize stage."""
    files = discover.list_inbox(inbox)
    docs = []
    for f in files:
        f.doc_id = discover.sha256_file(Path(f.abs_path))
        doc = ParsedDocument(file=f)
        parse_page(doc)
        docs.append(doc)
    documents, articles = documents_frame(docs), articles_frame(docs)
    paragraphs = mark_duplicates(paragraphs_frame(docs), documents, no_history).paragraphs
    return texts_to_tokenize(Batch(documents, articles, paragraphs))


def cached_texts(inbox: Path) -> pl.DataFrame:
    key = hashlib.sha1(str(inbox.resolve()).encode()).hexdigest()[:12]
    cache = Path("/tmp") / f"tokenize-bench-texts-{inbox.name}-{key}.parquet"
    if not cache.exists():
        start = time.perf_counter()
        texts_of(inbox).write_parquet(cache)
        print(f"prepared {cache} in {time.perf_counter() - start:.1f} s")
    return pl.read_parquet(cache)


class Replay:
    """Stands in for the tokenizer: `lcut` returns the words jieba cut for that text before."""

    def __init__(self, cuts: dict[str, list[str]]) -> None:
        self.cuts = cuts

    def lcut(self, text: str) -> list[str]:
        return self.cuts[text]


# --- reference: the stage before the rework (flows/steps/tokenize.py at 29ef1c8; the tokenizer
# --- is a parameter here so it can be replayed), only to time it and to check the new stage returns exactly the same frames.

_REFERENCE_WORD = re.compile(r"[^\W_]")


def reference_tokenize_rows(rows: pl.DataFrame, tokenizer: jieba.Tokenizer | Replay) -> pl.DataFrame:
    pids, aids, positions, words = [], [], [], []
    for pid, aid, text in rows.select("paragraph_id", "article_id", "text").iter_rows():
        cut = [w for w in tokenizer.lcut(text) if _REFERENCE_WORD.search(w)]
        pids += [pid] * len(cut)
        aids += [aid] * len(cut)
        positions.extend(range(len(cut)))
        words += cut
    return pl.DataFrame(
        {"paragraph_id": pids, "article_id": aids, "pos": positions, "word": words}, schema=stage.TOKEN_SCHEMA
    )


_REFERENCE_KEYWORD_CANDIDATE = (
    (pl.col("word").str.len_chars() >= 2)
    & pl.col("word").str.contains(r"\p{Han}")
    & ~pl.col("word").str.contains(r"\d")
)


def reference_article_keywords(tokens: pl.DataFrame, top_n: int = stage.KEYWORDS_PER_ARTICLE) -> pl.DataFrame:
    if tokens.height == 0:
        return pl.DataFrame(schema=stage.KEYWORD_SCHEMA)
    idf, median_idf = stage._idf()
    counts = tokens.filter(_REFERENCE_KEYWORD_CANDIDATE).group_by("article_id", "word").len("count")
    return (
        counts.join(idf, on="word", how="left")
        .with_columns(
            (
                pl.col("count")
                / pl.col("count").sum().over("article_id")
                * pl.col("idf").fill_null(median_idf)
            ).alias("weight")
        )
        .sort(["article_id", "weight", "word"], descending=[False, True, False])
        .with_columns(pl.int_range(1, pl.len() + 1).over("article_id").cast(pl.Int32).alias("rank"))
        .filter(pl.col("rank") <= top_n)
        .select("article_id", "rank", pl.col("word").alias("keyword"), "weight")
    )


# --- end of the reference


def best_of(reps: int, fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Best wall and CPU seconds of `reps` runs, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(reps):
        start, cpu_start = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu_start)
    return min(walls), min(cpus), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbox", type=Path, default=DEFAULT_INBOX if DEFAULT_INBOX.exists() else MAIN_INBOX)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)

    rows = cached_texts(args.inbox)
    texts = rows["text"].to_list()
    mb = sum(len(t.encode("utf-8")) for t in texts) / 2**20
    tokenizer = stage.regional_tokenizer()  # dictionaries loaded before any timing
    segmenter = stage.segmenter()
    stage._idf()
    timings: dict[str, tuple[float, float]] = {}

    def timed(name: str, fn: Callable[[], Any], reps: int = args.reps) -> Any:
        wall, cpu, result = best_of(reps, fn)
        timings[name] = (wall, cpu)
        return result

    timed("word class (once per process)", stage._word_class, reps=1)
    cuts = timed("lcut: jieba alone", lambda: [tokenizer.lcut(t) for t in texts])
    lexicon = stage.regional_lexicon()
    lexicon_cuts = timed("lcut: the Lexicon alone", lambda: [lexicon.lcut(t) for t in texts])
    assert lexicon_cuts == cuts, "the lexicon's words differ from jieba's"
    segmenter_cuts = timed("lcut: the pipeline's segmenter", lambda: [segmenter.lcut(t) for t in texts])
    differing = sum(ours != jiebas for ours, jiebas in zip(segmenter_cuts, cuts, strict=True))
    replay = Replay(dict(zip(texts, cuts, strict=True)))

    ref_tokens = timed("reference tokenize_rows", lambda: reference_tokenize_rows(rows, replay))
    ref_keywords = timed("reference article_keywords", lambda: reference_article_keywords(ref_tokens))
    # The tokenize task as a worker runs it: the words as one row per text, one row per
    # word for the keywords, and the contracts of words and keywords.
    lists = timed("stage cut_word_lists", lambda: stage.cut_word_lists(rows, replay))
    tokens = timed("stage words_of", lambda: stage.words_of(lists))
    keywords = timed("stage article_keywords", lambda: stage.article_keywords(tokens))
    assert_equal(tokens, keywords, ref_tokens, ref_keywords)
    timed("stage words' contract", lambda: check_words({"tokens": lists, "article_keywords": keywords}, rows))

    # Once each with jieba really cutting: the replay must not hide anything.
    reference = timed(
        "reference end to end",
        lambda: run(rows, reference_tokenize_rows, reference_article_keywords, tokenizer),
        reps=1,
    )
    assert_equal(*reference, ref_tokens, ref_keywords)
    real = timed(
        "stage end to end", lambda: run(rows, stage.tokenize_rows, stage.article_keywords, segmenter), reps=1
    )
    if not differing:
        assert_equal(*real, *reference)

    lcut_cpu = timings["lcut: jieba alone"][1]
    task_rest = timings["stage words' contract"][1]
    beyond = {
        "reference": timings["reference tokenize_rows"][1] + timings["reference article_keywords"][1],
        "stage": sum(
            timings[f"stage {step}"][1] for step in ("cut_word_lists", "words_of", "article_keywords")
        ),
    }
    print(
        f"{args.inbox}: {rows.height} texts, {mb:.1f} MB to segment, {tokens.height} tokens, "
        f"{keywords.height} keywords; best of {args.reps}"
    )
    print(
        "stage == reference: tokens and keywords (values, order, dtypes), replayed"
        + ("" if differing else " and end to end")
        + "; the Lexicon's words == jieba's; texts whose words from the segmenter differ "
        f"from jieba's (near-ties): {differing} of {len(texts)}"
    )
    print(f"| {'step':<40} | {'wall s':>7} | {'CPU s':>7} |")
    print(f"| {'-' * 40} | {'-' * 6}: | {'-' * 6}: |")
    for name, (wall, cpu) in timings.items():
        replayed = " (jieba replayed)" if name.endswith(("tokenize_rows", "cut_word_lists")) else ""
        print(f"| {name + replayed:<40} | {wall:7.2f} | {cpu:7.2f} |")
    for who, cpu in beyond.items():
        print(f"{who}: {cpu:.2f} CPU s beyond lcut = {100 * cpu / lcut_cpu:.1f} % of lcut's {lcut_cpu:.2f} s")
    task = beyond["stage"] + task_rest
    print(f"the whole tokenize task: {task:.2f} CPU s beyond lcut = {100 * task / lcut_cpu:.1f} % of lcut's")
    return 0


def run(
    rows: pl.DataFrame,
    tokenize_rows: Callable[[pl.DataFrame, Any], pl.DataFrame],
    article_keywords: Callable[[pl.DataFrame], pl.DataFrame],
    tokenizer: stage.Cutter,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    tokens = tokenize_rows(rows, tokenizer)
    return tokens, article_keywords(tokens)


def assert_equal(
    tokens: pl.DataFrame, keywords: pl.DataFrame, ref_tokens: pl.DataFrame, ref_keywords: pl.DataFrame
) -> None:
    assert_frame_equal(tokens, ref_tokens, check_exact=True)
    assert_frame_equal(keywords, ref_keywords, check_exact=True)
    assert dict(tokens.schema) == stage.TOKEN_SCHEMA and dict(keywords.schema) == stage.KEYWORD_SCHEMA


if __name__ == "__main__":
    sys.exit(main())
