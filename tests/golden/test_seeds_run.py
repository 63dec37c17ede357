"""The whole seed set after a real flow run: the warehouse holds restored newspaper text."""

from __future__ import annotations

import re

from flows.steps.clean import PINYIN_READING, to_simplified

# Lines of page 002 that are page furniture (Simplified and Traditional forms); none may
# reach `paragraphs`, whole or inside a paragraph.
BOILERPLATE = (
    "您的位置",
    "您的位置",
    "A+A-",
    "相关推荐",
    "相關推薦",
    "网友评论",
    "網友評論",
    "关于我们",
    "關於我們",
    "版权所有",
    "版權所有",
    "ICP备",
    "ICP備",
    "许可证编号",
    "許可證編號",
    "举报电话",
    "舉報電話",
    "举报邮箱",
    "lcxw@lcxw.cn",
    "来源:",
    "來源:",
    "编辑:李太斗",
)
NAV_ITEMS = {"锐评", "要闻", "视听", "图说", "热线", "部门", "县域", "数字报", "看电视", "听广播", "分享"}
SENTENCE_END = re.compile(r"[。!?…][”’」』)]*$")
# Paragraphs allowed to end without sentence-final punctuation, with the reason. Titles
# never reach `paragraphs` (they are article columns); photo captions may end in a noun.
JUSTIFIED_EXCEPTIONS: dict[str, str] = {}


def test_no_traditional_character_is_left(seeded_sql) -> None:
    texts = [t for (t,) in seeded_sql("SELECT text FROM paragraphs")]
    heads = [t for row in seeded_sql("SELECT title, subtitle, kicker FROM articles") for t in row if t]
    assert len(texts) > 100
    assert [t for t in texts + heads if to_simplified(t)[0] != t] == []


def test_no_pinyin_annotation_or_lost_character_mark_is_left(seeded_sql) -> None:
    texts = [t for (t,) in seeded_sql("SELECT text FROM paragraphs")]
    reading = re.compile(r"[\u3400-\u9fff?\ufffd\ue000-\uf8ff]" + PINYIN_READING)
    assert [t for t in texts if reading.search(t) or re.search("[\ue000-\uf8ff\ufffd]", t)] == []
    # ... and the one paragraph that lost a character says so.
    flagged = seeded_sql("SELECT count(*) FROM paragraphs WHERE list_contains(quality_flags, 'lost_char')")
    assert flagged == [(1,)]


def test_no_boilerplate_line_is_left(seeded_sql) -> None:
    texts = [t for (t,) in seeded_sql("SELECT text FROM paragraphs")]
    assert [t for t in texts if t in NAV_ITEMS or any(b in t for b in BOILERPLATE)] == []
    assert seeded_sql("SELECT source, editor FROM documents WHERE path LIKE '002%'") == [
        ("大众日报", "李太斗")
    ]


def test_every_unfinished_paragraph_is_a_caption_or_a_listed_exception(seeded_sql) -> None:
    rows = seeded_sql(
        "SELECT p.paragraph_id, a.kind, p.text FROM paragraphs p JOIN articles a USING (article_id)"
    )
    unfinished = [
        (pid, text)
        for pid, kind, text in rows
        if not SENTENCE_END.search(text) and kind != "photo" and pid not in JUSTIFIED_EXCEPTIONS
    ]
    assert unfinished == []


def test_quality_figures_reach_the_runs_row(seeded_sql) -> None:
    joins, boilerplate, converted, lost = seeded_sql(
        "SELECT joins, boilerplate_lines, converted_chars, lost_chars FROM runs"
    )[0]
    assert boilerplate == 22  # all on page 002
    assert lost == 2  # 002: "?qǐng)" (no character of the page reads qǐng) and "?shù)" (地)
    assert converted > 700  # page 002 is Traditional throughout
    # Text joins counted by hand from the pages (000: 12, 001: 8, 002: 0, 003: 9, 004: 10)
    # plus the byline lines rebuilt on 001 (five bylines, two more lines each).
    assert joins == 12 + 8 + 0 + 9 + 10 + 5 * 2
