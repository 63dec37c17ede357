"""warehouse/queries/*.sql: analyst questions, answered on the seed pages.

Every expected value was counted by hand on seeds/*.txt.
"""

from __future__ import annotations

from pathlib import Path

import pytest

QUERIES = Path(__file__).resolve().parents[1] / "warehouse" / "queries"


@pytest.fixture(scope="module")
def ask(seeded_sql):
    def run(name: str) -> list[tuple]:
        return seeded_sql((QUERIES / f"{name}.sql").read_text(encoding="utf-8"))

    return run


def test_every_query_file_is_tested():
    tested = {
        n[len("test_") :]
        for n in globals()
        if n.startswith("test_") and n != "test_every_query_file_is_tested"
    }
    assert {p.stem for p in QUERIES.glob("*.sql")} == tested


def test_townships_most_named(ask):
    rows = ask("townships_most_named")
    named = {township: (articles, mentions) for township, articles, mentions, *_ in rows}
    # 吴店镇: 000's meeting (once), 001's 医保 story (once), 004's 智慧云治理 (five times).
    # 沙土镇: 000's meeting (once) and 学习强国 (twice), 001's 食品产业 photo (twice).
    assert [r[:3] for r in rows[:2]] == [("吴店镇", 3, 7), ("沙土镇", 3, 5)]
    # Named in 000's prize list and in one story each.
    for township in (
        "胡集镇",
        "皇镇街道",
        "北城街道",
        "南城街道",
        "牡丹街道",
        "都司镇",
        "黄堽镇",
        "小留镇",
        "李村镇",
    ):
        assert named[township][0] == 2, township
    assert named["安兴镇"][0] == 2  # 000's 学习强国 and 004's 服饰厂 photo, both outside the prize list
    assert named["高庄镇"] == (1, 3)  # its own story on 001 (title, 近年来高庄镇…, 高庄镇党委书记)
    assert named["荷花路街道"] == (1, 1)  # 002, 济南: 历城区荷花路街道朱家村
    # 002 is the only page that gives its year: its towns carry a day, the others none.
    assert (rows[0][3], rows[0][4]) == (None, None)
    胜坨镇 = next(r for r in rows if r[0] == "胜坨镇")
    assert str(胜坨镇[3]) == "2022-02-07"


def test_correspondent_photo_stories(ask):
    rows = [(name, n) for name, n, _ in ask("correspondent_photo_stories")]
    # Captions: 000 通讯员 鄢玉华 顾文雅 / 鄢玉华 杨云; 001 通讯员 郭玉华 晁瑞君 刘青 / 郭玉华 郭继生 彭小珂;
    # 004 通讯员 郜玉华 孔得旺. 003's 记者 付凤臣摄 is a reporter's photo.
    assert rows[:2] == [("郭玉华", 2), ("鄢玉华", 2)]
    assert sorted(rows[2:]) == sorted(
        (name, 1) for name in ("顾文雅", "杨云", "晁瑞君", "刘青", "郭继生", "彭小珂", "郜玉华", "孔得旺")
    )


def test_reporters_most_articles(ask):
    rows = {reporter: articles for reporter, articles, _ in ask("reporters_most_articles")}
    # 郭卫东: 000 汇聚人才力量; 001 微光成炬, 医保, 南城街道; 004 非遗+旅游, 小留镇, 民生福祉, 以花为媒.
    assert ask("reporters_most_articles")[0][:2] == ("郭卫东", 8)
    assert rows["张慧"] == 2  # 003: 世界地球日 and the marathon
    for reporter in ("时苏建", "董传周", "王燕", "马琳", "李萍"):
        assert rows[reporter] == 1
    assert "郭玉华" not in rows  # a correspondent, never a reporter


def test_nucleic_acid_testing(ask):
    rows = ask("nucleic_acid_testing")
    # Only 001's two covid-testing stories; 南城街道's names 核酸 ten times, 微光成炬 four.
    assert [title for title, _, _ in rows] == ["南城街道:“敲门敲窗”逐人排查", "微光成炬,点亮城市最美“志愿红”"]
    assert rows[0][2] > rows[1][2] > 0


def test_districts_beyond_mudan(ask):
    rows = {district: articles for district, articles, _ in ask("districts_beyond_mudan")}
    # 003: 东明县 in the 审计局 story and the 节水 story; 定陶区 in the 审计局 story (定陶区冉堌镇)
    # and the 乡情贷 story.
    assert [r[:2] for r in ask("districts_beyond_mudan")[:2]] == [("东明县", 2), ("定陶区", 2)]
    assert {d: rows[d] for d in ("成武县", "巨野县", "曹县", "高新区")} == dict.fromkeys(
        ("成武县", "巨野县", "曹县", "高新区"), 1
    )
    assert "牡丹区" not in rows and "鄄城县" not in rows
