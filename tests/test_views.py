"""warehouse/views/: every view on the seed pages, with values counted by hand on seeds/*.txt."""

from __future__ import annotations

import duckdb

from flows.steps.tokenize import lexicon_frame
from warehouse.db import VIEW_FILES, ensure_schema

MINE = {
    "article_days",
    "article_people",
    "article_places",
    "articles_per_date",
    "articles_per_place",
    "articles_per_place_date",
    "keyword_counts",
    "keyword_counts_daily",
    "people",
    "quality_issues",
    "search_articles",
}


def test_views_are_created_on_an_empty_warehouse_in_file_order():
    con = duckdb.connect()
    ensure_schema(con)  # a view must not need a view of a later file
    views = con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    macros = con.execute(
        "SELECT function_name FROM duckdb_functions() WHERE function_type = 'table_macro'"
    ).fetchall()
    assert {name for (name,) in views + macros} >= MINE
    assert {f.stem for f in VIEW_FILES} >= MINE
    assert con.execute("SELECT count(*) FROM people").fetchone() == (0,)


def test_article_days_take_the_articles_day_else_the_publication_day(seeded_sql):
    days = dict(seeded_sql("SELECT title, day FROM article_days WHERE title IS NOT NULL"))
    # 002 is published 2022-02-08 19:41:46; its stories report on 2月7日.
    assert str(days["招商任务每季度考核"]) == "2022-02-07"
    # Its editor's note names no day of its own: the publication day stands in.
    assert str(days["动起来 跑起来 干起来"]) == "2022-02-08"
    # 001 says 7月18日 but prints no year anywhere: no guessed date.
    assert days["牡丹区推广“手机视频办医保”业务"] is None
    assert seeded_sql("SELECT DISTINCT month FROM article_days WHERE path LIKE '002%'") == [("2022-02",)]


def test_articles_per_date(seeded_sql):
    per_day = {str(d): (n, photos) for d, n, photos in seeded_sql("SELECT * FROM articles_per_date")}
    # 002, 2月7日: the 新华社 photo of 烟台 and the stories of 济南, 威海, 垦利, 庆云.
    assert per_day["2022-02-07"] == (5, 1)
    assert per_day["2022-02-08"] == (1, 0)  # the editor's note, dated by publication
    assert set(per_day) == {"2022-02-07", "2022-02-08", "None"}  # the other pages print no year


def test_people_count_articles_per_role(seeded_sql):
    people = {
        p: (articles, reporter, correspondent, photos)
        for p, _, articles, reporter, correspondent, photos in seeded_sql("SELECT * FROM people")
    }
    assert people["郭卫东"] == (8, 8, 0, 0)
    # 郭玉华: correspondent on 001's five stories, photographer of its two photos.
    assert people["郭玉华"] == (7, 0, 5, 2)
    assert people["鄢玉华"] == (5, 0, 3, 2)  # 000: three stories, two photos
    assert people["郜玉华"] == (3, 0, 2, 1)  # 004
    assert people["付凤臣"] == (1, 0, 0, 1)
    # 蒋硕 and 宋杰 sign 000's meeting story and, glued as 蒋硕宋杰, 001's 微光成炬.
    assert people["蒋硕"] == people["宋杰"] == (2, 0, 2, 0)
    roles = dict(seeded_sql("SELECT person, roles FROM people WHERE person = '鄢玉华'"))
    assert roles["鄢玉华"] == ["correspondent", "photographer"]


def test_article_people_names_each_article(seeded_sql):
    rows = seeded_sql(
        "SELECT person, role FROM article_people WHERE title = '威武:规范“属地管理”推动基层社会治理效能' ORDER BY role"
    )
    assert rows == [("张凯", "correspondent"), ("董传周", "reporter")]  # 003


def test_articles_per_place(seeded_sql):
    places = {p: (level, n) for p, level, n, *_ in seeded_sql("SELECT * FROM articles_per_place")}
    # 吴店镇: 000's meeting, 001's 医保 story, 004's 智慧云治理.
    assert places["吴店镇"] == ("township", 3)
    # 沙土镇: 000's meeting and 学习强国, 001's 食品产业 photo.
    assert places["沙土镇"] == ("township", 3)
    assert places["胡集镇"] == ("township", 2)  # 000: the meeting and the 裘皮 photo
    assert places["小留镇"] == ("township", 2)  # 000: the meeting; 004: 小留镇 story
    assert places["安兴镇"] == ("township", 2)  # 000: 学习强国; 004: the 服饰厂 photo
    assert places["皇镇街道"] == ("township", 2)  # 000: the meeting; 001: 一企一策 photo
    assert places["东明县"] == ("district", 2)  # 003: 审计局 story, 节水 story
    assert places["魏庄行政村"] == ("village", 1)  # 003: 审计局 story, four times


def test_articles_per_place_date(seeded_sql):
    rows = seeded_sql(
        "SELECT place, CAST(day AS VARCHAR), articles FROM articles_per_place_date WHERE day IS NOT NULL"
    )
    # 002, 2月7日: the 烟台 photo, 济南 (历城区荷花路街道), 威海, 垦利 (东营市垦利区胜坨镇), 庆云县.
    dated = ["烟台", "济南", "历城区", "荷花路街道", "威海", "东营市", "垦利区", "胜坨镇", "庆云县"]
    assert sorted(rows) == sorted((place, "2022-02-07", 1) for place in dated)
    undated = seeded_sql(
        "SELECT articles FROM articles_per_place_date WHERE place = '沙土镇' AND day IS NULL"
    )
    assert undated == [(3,)]


def test_article_places_counts_mentions_in_words_that_contain_the_place(seeded_sql):
    rows = seeded_sql(
        "SELECT place, mentions FROM article_places WHERE title = '牡丹区推广“手机视频办医保”业务' ORDER BY place"
    )
    # 牡丹区: title, 吴店镇 sentence, 牡丹区医保局 twice, 牡丹区已有 = 5; 桥口村 once; 吴店镇 once.
    assert rows == [("吴店镇", 1), ("桥口村", 1), ("牡丹区", 5)]


def test_keyword_counts(seeded_sql):
    counts = {k: n for k, n, *_ in seeded_sql("SELECT * FROM keyword_counts")}
    # 核酸 is a keyword of both covid-testing stories on 001 (南城街道 and 微光成炬).
    assert counts["核酸"] == 2
    assert counts["马拉松"] == 1
    top = seeded_sql("SELECT keyword FROM keyword_counts ORDER BY articles DESC, weight DESC LIMIT 1")
    assert top == [("牡丹区",)]  # the paper of 牡丹区


def test_keyword_counts_daily(seeded_sql):
    rows = seeded_sql("SELECT keyword, articles FROM keyword_counts_daily WHERE day IS NULL")
    assert ("核酸", 2) in rows  # 001 prints no year
    # 002 (2月7日, published 2022): 威海's story is about 招商 (招商引资, 招商任务, 十大招商…).
    feb = dict(seeded_sql("SELECT keyword, articles FROM keyword_counts_daily WHERE day = DATE '2022-02-07'"))
    assert feb["招商"] >= 1


def test_quality_issues_per_document(seeded_sql):
    issues = {
        (path[:3], issue): (n, example)
        for _, path, issue, n, example in seeded_sql("SELECT * FROM quality_issues")
    }
    # 003 prints the 546-character “网格+居民自治” paragraph twice.
    assert issues[("003", "duplicate_exact")][0] == 1
    assert issues[("003", "duplicate_exact")][1].startswith("“网格+居民自治”")
    # 002 lost a character: 當?shù)厝肆Y源 (当地人力资源).
    assert issues[("002", "lost_char")][0] == 1
    # 001's 高庄镇 story repeats its 张孝礼 paragraph as a fragment after a page break.
    assert ("001", "duplicate_contained") in issues or ("001", "duplicate_near") in issues
    assert not any(issue == "rejected" for _, issue in issues)


def test_lexicon_is_replaced_not_appended_by_each_run(inbox, db_path, run_flow, sql):
    run_flow(inbox, db_path)
    run_flow(inbox, db_path)  # nothing new to load: the dictionary is written again
    entries = lexicon_frame()
    assert sql("SELECT count(*), count(DISTINCT word) FROM lexicon")[0] == (entries.height, entries.height)


def test_quality_issues_name_a_rejected_page_and_its_reason(inbox, db_path, run_flow, sql):
    (inbox / "010_blank.txt").write_text("\n   \n\n", encoding="utf-8")
    run_flow(inbox, db_path)
    rejected = sql("SELECT path, count, example FROM quality_issues WHERE issue = 'rejected'")
    assert rejected == [
        ("010_blank.txt", 1, "no text: the page holds only whitespace, navigation or boilerplate")
    ]
