"""`newsetl search`: BM25 over the jieba words of the seed pages, best article first."""

from __future__ import annotations

import duckdb
import pytest

from flows.cli import main
from warehouse.db import connect
from warehouse.search import search, snippet

MEDICAL_INSURANCE_TITLE = "牡丹区推广“手机视频办医保”业务"  # 001


@pytest.fixture(scope="module")
def find(seeded_db):
    def run(query: str, limit: int = 10):
        with connect(seeded_db, read_only=True) as con:
            return search(con, query, limit)

    return run


def test_marathon_finds_the_marathon_article_first_and_only(find, seeded_sql):
    hits = find("马拉松")
    # Only one article of the five pages is about the 菏泽 marathon (003).
    assert len(hits) == 1
    body = seeded_sql(
        "SELECT string_agg(text, '') FROM paragraphs WHERE article_id = ?", [hits[0].article_id]
    )[0][0]
    assert "菏泽马拉松赛将于5月7日鸣枪开跑" in body
    assert "【马拉松】" in hits[0].snippet


def test_medical_insurance_finds_the_medical_insurance_article_first(find):
    hits = find("医保")
    assert hits[0].title == MEDICAL_INSURANCE_TITLE
    assert "【医保】" in hits[0].snippet
    # 004's 吴店镇 article mentions 医保受理 once: found, far below.
    assert len({h.article_id for h in hits}) == len(hits) >= 2
    assert hits[0].score > 2 * hits[-1].score


def test_query_is_cut_with_the_user_dictionary(find):
    # 吴店镇 is one word only with the user dictionary; the pages name it in three articles:
    # 000's meeting (吴店镇获镇街一等奖), 001's 医保 story, and 004's 智慧云治理.
    hits = find("吴店镇")
    assert len(hits) == 3
    assert all("吴店镇" in h.matched for h in hits)
    assert MEDICAL_INSURANCE_TITLE in {h.title for h in hits}


def test_words_of_a_query_add_up(find):
    both = find("核酸 志愿者")
    # 001's 微光成炬 story is about volunteers doing nucleic-acid testing: both words.
    assert both[0].title == "微光成炬,点亮城市最美“志愿红”"
    assert sorted(both[0].matched) == ["志愿者", "核酸"]


def test_nothing_found_is_an_empty_list(find):
    assert find("区块链") == []
    assert find(",。") == []


def test_snippet_starts_a_little_before_the_best_paragraphs_first_hit():
    paragraphs = ["没有关键词的段落。", "甲" * 50 + "马拉松赛道经过天香路" + "乙" * 50]
    text = snippet(paragraphs, ["马拉松"], width=30)
    assert text.startswith("…" + "甲" * 7 + "【马拉松】")
    assert text.endswith("…")
    assert snippet(["短文马拉松"], ["马拉松"]) == "短文【马拉松】"


def test_search_command_prints_ranked_articles_with_snippets(seeded_db, capsys):
    assert main(["search", "医保", "--limit", "2", "--db", str(seeded_db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"1. {MEDICAL_INSURANCE_TITLE}  [undated]  score ")
    assert "【医保】" in lines[1]
    assert lines[2].startswith("2. ")
    assert len(lines) == 4

    assert main(["search", "区块链", "--db", str(seeded_db)]) == 1
    assert "no article matches" in capsys.readouterr().out


def test_search_on_a_warehouse_without_the_macro_says_what_to_do(tmp_path, capsys):
    old = tmp_path / "old.duckdb"
    duckdb.connect(str(old)).close()
    assert main(["search", "医保", "--db", str(old)]) == 2
    assert "run `newsetl run` once" in capsys.readouterr().err
