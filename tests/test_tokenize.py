"""jieba words with the region's user dictionary, and TF-IDF keywords computed from them."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import duckdb
import jieba.analyse
import polars as pl
import pytest

from flows.steps import tokenize as tokenize_step
from flows.steps.tokenize import (
    _WORD,
    TOKEN_SCHEMA,
    _idf,
    _word_class,
    article_keywords,
    cut_word_lists,
    lexicon_frame,
    plain_tokenizer,
    regional_tokenizer,
    segment_words,
    tokenize_rows,
)

SEEDS = Path(__file__).resolve().parents[1] / "seeds"

# Sentences as printed on the seed pages.
WUDIAN = "7月18日,牡丹区吴店镇桥口村村民魏月菊一边听着村里“大喇叭”播放的操作方法"  # 001
HUJI = "日前,在牡丹区胡集镇裘皮工艺品技艺“非遗工坊”,传承人马先华(中)给学生讲解裘皮工艺品制作技艺。"  # 000
HUANGZHEN = "7月25日,在牡丹区皇镇街道的石炭纪纳米材料绿色产业园项目生产车间,工人在生产线上忙碌。"  # 001
MEETING = (  # 000, a paragraph without digits or Latin letters
    "会议指出,要找准问题差距,明确努力方向,切实增强稳经济促发展的压力感和紧迫感;要坚持目标引领,"
    "强化责任落实,切实发挥综合绩效考核导向和激励作用;要增强工作信心,聚焦工作重点,切实推动经济发展目标"
    "任务落实落地;要改进工作作风,勇于真抓实干,切实凝聚干事创业强大动力合力,奋力开创牡丹区高质量发展新局面。"
)


@pytest.fixture(scope="module")
def plain():
    return plain_tokenizer()


@pytest.mark.parametrize(
    ("text", "whole", "pieces_without_dictionary"),
    [
        (WUDIAN, ["吴店镇", "桥口村"], ["吴店", "镇桥", "口村"]),
        (HUJI, ["胡集镇", "非遗工坊"], ["胡", "集镇"]),
        (HUANGZHEN, ["皇镇街道"], ["皇镇", "街道"]),
        ("李村镇党委书记王化军表示", ["李村镇"], ["李", "村镇"]),
        ("区人社部门联合农商银行", ["区人社部门"], []),
    ],
    ids=["吴店镇", "胡集镇", "皇镇街道", "李村镇", "区人社部门"],
)
def test_user_dictionary_keeps_the_regions_names_whole(plain, text, whole, pieces_without_dictionary):
    without = segment_words(text, plain)
    with_dictionary = segment_words(text)
    for word in whole:
        assert word not in without
        assert word in with_dictionary
    for piece in pieces_without_dictionary:
        assert piece in without
        assert piece not in with_dictionary
    # Same characters either way: the dictionary moves boundaries, it drops nothing.
    assert "".join(without) == "".join(with_dictionary)


def test_lexicon_lists_places_with_their_level_and_organisations_without():
    lexicon = {w: (tag, level) for w, tag, level in lexicon_frame().iter_rows()}
    assert lexicon["牡丹区"] == ("ns", "district")
    assert lexicon["鄄城县"] == ("ns", "district")
    assert lexicon["吴店镇"] == ("ns", "township")
    assert lexicon["皇镇街道"] == ("ns", "township")
    assert lexicon["长兴集乡"] == ("ns", "township")
    assert lexicon["会盟社区"] == ("ns", "village")
    assert lexicon["菏泽"] == ("ns", "city")
    assert lexicon["牡丹区医保局"] == ("nt", None)
    assert lexicon_frame()["word"].is_unique().all()


def test_tokens_are_numbered_per_text_without_punctuation():
    rows = pl.DataFrame(
        {
            "paragraph_id": ["ebb03974571365df-a004-title", "ebb03974571365df-a004-p000"],
            "article_id": ["ebb03974571365df-a004"] * 2,
            "text": ["牡丹区推广“手机视频办医保”业务", WUDIAN],
        }
    )
    tokens = tokenize_rows(rows)
    title = tokens.filter(pl.col("paragraph_id").str.ends_with("title"))
    assert title["word"].to_list() == ["牡丹区", "推广", "手机", "视频", "办", "医保", "业务"]
    assert title["pos"].to_list() == list(range(7))
    body = tokens.filter(pl.col("paragraph_id").str.ends_with("p000"))
    assert body["pos"].to_list() == list(range(body.height))
    assert "," not in body["word"].to_list() and "“" not in body["word"].to_list()


def test_word_class_for_polars_is_pythons_word_pattern_on_every_code_point():
    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    ours = pl.Series(chars).str.contains(_word_class())
    python = pl.Series([_WORD.search(c) is not None for c in chars])
    assert ours.equals(python)
    assert python.equals(pl.Series([c.isalnum() for c in chars]))  # what the comment says it is
    # Why the class is built at all: the Rust engine's own `[^\W_]` disagrees on these.
    rust = pl.Series(["①", "½", "㊿", "\u0301", "‿"]).str.contains(r"[^\W_]")
    assert rust.to_list() == [False, False, False, True, True]


def seed_lines() -> pl.DataFrame:
    """Every line of the seed pages as it is read, blank ones included: real punctuation,
    markup, Latin, digits, pinyin, full-width space and Traditional text."""
    lines = [
        (f"{page.stem}-l{n:03d}", page.stem, line)
        for page in sorted(SEEDS.glob("*.txt"))
        for n, line in enumerate(page.read_text(encoding="utf-8").split("\n"))
    ]
    return pl.DataFrame(lines, schema=["paragraph_id", "article_id", "text"], orient="row")


def test_tokens_are_jiebas_tokens_holding_a_letter_or_digit_on_every_seed_line():
    rows = seed_lines()
    tokens = tokenize_rows(rows)
    words = tokens.group_by("paragraph_id", maintain_order=True).agg("article_id", "pos", "word")
    by_text = {pid: (aids, pos, ws) for pid, aids, pos, ws in words.iter_rows()}

    cutter = regional_tokenizer()
    dropped = 0
    for pid, aid, text in rows.iter_rows():
        cut = cutter.lcut(text)
        expected = [w for w in cut if any(c.isalnum() for c in w)]
        dropped += len(cut) - len(expected)
        if not expected:
            assert pid not in by_text  # an empty, blank or punctuation-only line has no token row
            continue
        aids, pos, ws = by_text[pid]
        assert ws == expected
        assert pos == list(range(len(expected)))
        assert set(aids) == {aid}
    assert dropped > 1000  # the seeds' punctuation and whitespace: the filter was exercised
    assert {"2022", "A", "08", "1.5"} <= set(tokens["word"])  # digits and Latin stay
    assert tokens.schema == TOKEN_SCHEMA


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", []),
        ("  \t\r\n\u3000", []),
        ("，。！“”——……", []),
        ("A+A-", ["A", "A"]),
        ("2022-02-08 19:41:46", ["2022", "02", "08", "19", "41", "46"]),
        ("COVID-19疫情 3.5%", ["COVID", "19", "疫情", "3.5%"]),
        ("第①条 ½ café", ["第", "①", "条", "½", "caf", "é"]),  # No numbers are str.isalnum
        ("__init__ a_b ‿", ["init", "a", "b"]),  # underscore and other connectors are no word
        ("e\u0301", ["e"]),  # a combining mark alone is no word
        ("１２３ＡＢＣ", ["１", "２", "３", "Ａ", "Ｂ", "Ｃ"]),
        ("菏泽\x1f\x1f牡丹区\x1f", ["菏泽", "牡丹区"]),  # the words' separator in a text
    ],
    ids=[
        "empty",
        "whitespace",
        "punctuation",
        "plus-minus",
        "datetime",
        "latin-digits",
        "numbers",
        "underscore",
        "mark",
        "fullwidth",
        "separator",
    ],
)
def test_tokens_of_one_text_between_two_others(text, words):
    rows = pl.DataFrame(
        {
            "paragraph_id": ["a-p000", "a-p001", "b-p000"],
            "article_id": ["a", "a", "b"],
            "text": ["牡丹区", text, "菏泽。"],
        }
    )
    tokens = tokenize_rows(rows)
    assert tokens.rows() == [
        ("a-p000", "a", 0, "牡丹区"),
        *[("a-p001", "a", pos, word) for pos, word in enumerate(words)],
        ("b-p000", "b", 0, "菏泽"),
    ]
    assert segment_words(text) == words  # the query side cuts the same words


def test_no_text_no_token():
    assert tokenize_rows(seed_lines().head(0)).schema == TOKEN_SCHEMA
    assert tokenize_rows(seed_lines().head(0)).height == 0


def test_keywords_weigh_like_jieba_extract_tags_without_cutting_twice():
    rows = pl.DataFrame({"paragraph_id": ["x-p000"], "article_id": ["x"], "text": [MEETING]})
    ours = article_keywords(tokenize_rows(rows), top_n=1000)

    extractor = jieba.analyse.TFIDF()
    extractor.tokenizer = regional_tokenizer()  # the same words, user dictionary included
    theirs = dict(extractor.extract_tags(MEETING, topK=None, withWeight=True))

    assert dict(zip(ours["keyword"], ours["weight"], strict=True)) == pytest.approx(theirs)
    assert ours["keyword"][0] == "切实"  # four times in one paragraph
    assert ours["rank"].to_list() == list(range(1, ours.height + 1))


def test_the_idf_table_is_jiebas_own_with_its_median():
    jiebas = importlib.import_module("jieba.analyse.tfidf").IDFLoader(str(tokenize_step.IDF_FILE))
    table, median = _idf()
    assert table.height == len(jiebas.idf_freq) > 250_000
    assert dict(zip(table["word"], table["idf"], strict=True)) == jiebas.idf_freq
    assert median == jiebas.median_idf


def test_keywords_are_the_top_n_han_words_of_each_article():
    rows = pl.DataFrame(
        {
            "paragraph_id": ["a-title", "a-p000", "b-p000"],
            "article_id": ["a", "a", "b"],
            "text": ["非遗项目传承发展", HUJI, "2023年4月23日 2023年 菏泽 菏泽 A"],
        }
    )
    keywords = article_keywords(tokenize_rows(rows), top_n=3)
    a = keywords.filter(pl.col("article_id") == "a")
    assert a["keyword"].to_list()[0] == "裘皮"  # twice in the caption, rare in general text
    assert a.height == 3
    # Years, dates and single letters are no keywords.
    assert keywords.filter(pl.col("article_id") == "b")["keyword"].to_list() == ["菏泽"]
    assert article_keywords(tokenize_rows(rows.head(0))).height == 0


def test_the_top_n_keywords_are_the_head_of_the_full_ranking_on_the_seeds():
    tokens = tokenize_rows(seed_lines())
    everything = article_keywords(tokens, top_n=1_000_000)
    assert article_keywords(tokens, top_n=5).equals(everything.filter(pl.col("rank") <= 5))
    assert everything.group_by("article_id").len()["len"].min() > 5  # every page has more


def test_keywords_of_equal_weight_rank_by_word_and_the_cut_keeps_the_first():
    words = ["菏泽甲", "菏泽乙", "菏泽丙", "菏泽丁"]  # not in the IDF table: all weigh the same
    assert not _idf()[0].filter(pl.col("word").is_in(words)).height
    tokens = pl.DataFrame(
        {"paragraph_id": "x-p000", "article_id": "x", "pos": range(4), "word": words[::-1]},
        schema=TOKEN_SCHEMA,
    )
    keywords = article_keywords(tokens, top_n=3)
    assert keywords["keyword"].to_list() == sorted(words)[:3]
    assert keywords["rank"].to_list() == [1, 2, 3]
    assert keywords["weight"].n_unique() == 1


def test_an_articles_keywords_weigh_the_same_alone_as_among_others():
    # A demoted fragment's article gets its keywords weighed again alone, at load
    # (warehouse/dedup_index.py): bit for bit what the whole batch would have given it.
    tokens = tokenize_rows(seed_lines())
    together = article_keywords(tokens)
    for (article,), own in tokens.group_by("article_id"):
        assert article_keywords(own).equals(together.filter(pl.col("article_id") == article))


def test_the_tokenize_work_quarantines_words_that_break_their_contract():
    from flows.text_work import cut_words

    good, bad = "0123456789abcdef-a000", "0123456789abcdef-a001"
    rows = pl.DataFrame(
        {
            "paragraph_id": [f"{good}-title", f"{good}-p000", f"{good}-p001"],
            "article_id": [good, good, bad],  # the last text names another article than its id's
            "text": ["菏泽市牡丹区", "春节假期结束,开工第一天。", "网格员入户走访。"],
        }
    )
    words, seconds = cut_words(rows)

    assert set(words["tokens"]["paragraph_id"]) == {f"{good}-title", f"{good}-p000"}
    assert words["quarantine"]["row_key"].to_list() == [f"{good}-p001"]
    assert set(seconds) == {"tokenize", "validate_words"}


def test_word_lists_become_one_row_per_word_in_order(tmp_path):
    # Words are cut and checked as one list per text, and staged and stored as the
    # warehouse's one row per word, `pos` being the index in the list.
    from warehouse.staging import Staging

    lists = cut_word_lists(seed_lines())
    tokens = tokenize_rows(seed_lines())
    assert lists.height == tokens["paragraph_id"].n_unique() < tokens.height / 10
    for text in lists.iter_rows(named=True):
        words = tokens.filter(pl.col("paragraph_id") == text["paragraph_id"]).sort("pos")
        assert words["word"].to_list() == text["words"]
        assert words["pos"].to_list() == list(range(len(text["words"])))
    with Staging(tmp_path / "news.duckdb", "run") as staging:
        staging.append({"tokens": tokens.head(50)})
        staging.append({"tokens": tokens.slice(50)})
        read_back = duckdb.sql(f"SELECT * FROM {staging.file_tables()['tokens']}").pl()
    order = ["paragraph_id", "pos"]
    assert read_back.schema == tokens.schema
    assert read_back.sort(order).equals(tokens.sort(order))


def test_the_tokenize_work_stages_its_words_and_keywords_itself(tmp_path):
    # In a run, the workers write the words and keywords into the run's staging and hand
    # back only the quarantined rows: the load reads the same rows as from `append`.
    from flows.text_work import cut_words
    from warehouse.staging import WORD_TABLES, Staging

    # The seed lines as the paragraphs of one article per page, with ids of the contract's form.
    rows = seed_lines().with_columns(
        article_id=pl.col("article_id")
        .rank("dense")
        .cast(pl.Int64)
        .map_elements(lambda n: f"{n:016x}-a000", return_dtype=pl.String)
    )
    rows = rows.with_columns(
        paragraph_id=pl.col("article_id")
        + "-p"
        + pl.int_range(pl.len()).over("article_id").cast(pl.String).str.zfill(3)
    )
    kept, _ = cut_words(rows)
    assert kept["quarantine"].height == 0
    with Staging(tmp_path / "news.duckdb", "run") as staging:
        handed_back, seconds = cut_words(rows, staging.part_files("words-000001-0000", WORD_TABLES))
        staged = {t: duckdb.sql(f"SELECT * FROM {r}").pl() for t, r in staging.file_tables().items()}
        files = sorted(p.name for p in staging.files.rglob("*") if p.is_file())

    assert set(handed_back) == {"quarantine"} and handed_back["quarantine"].equals(kept["quarantine"])
    assert set(seconds) == {"tokenize", "validate_words", "stage_words"}
    assert files == ["words-000001-0000.parquet"] * 2  # one per table, no partial file left
    order = ["paragraph_id", "pos"]
    assert staged["tokens"].sort(order).equals(kept["tokens"].sort(order))
    keyword_order = ["article_id", "rank"]
    assert staged["article_keywords"].sort(keyword_order).equals(kept["article_keywords"].sort(keyword_order))
    assert staged["tokens"].height > 5_000


def test_texts_cut_in_batches_give_the_words_of_each_text_alone(monkeypatch):
    # A part is cut a batch of texts at a time (memory); a batch's end never moves a word.
    rows = seed_lines()
    whole = cut_word_lists(rows)
    monkeypatch.setattr(tokenize_step, "CUT_BATCH_CHARS", 50)
    assert len(list(tokenize_step._runs_of_chars(rows["text"].str.len_chars().to_list(), 50))) > 100
    batched = cut_word_lists(rows)
    assert batched.equals(whole)
    by_text = dict(zip(batched["paragraph_id"], batched["words"], strict=True))
    for pid, text in zip(rows["paragraph_id"], rows["text"], strict=True):
        assert by_text.get(pid, pl.Series([], dtype=pl.String)).to_list() == segment_words(text)
