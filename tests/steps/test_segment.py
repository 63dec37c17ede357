"""Segment: articles, headline parts, people, photo credits and dates."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.steps.model import PageMeta, Paragraph
from flows.steps.segment import event_date, parse_credit, segment_page

NO_DATE = PageMeta()
PUBLISHED = PageMeta(published_at=dt.datetime(2022, 2, 8, 19, 41, 46))


def paras(*lines: str, heading: tuple[int, ...] = ()) -> list[Paragraph]:
    return [Paragraph(text=t, text_raw=t, heading=i in heading) for i, t in enumerate(lines)]


@pytest.mark.parametrize(
    ("credit", "reporters", "correspondents", "text"),
    [
        (
            "通讯员 郭玉华 蒋硕宋杰 牡丹晚报全媒 媒体记者 郭卫东",
            ["郭卫东"],
            ["郭玉华", "蒋硕", "宋杰"],
            "通讯员 郭玉华 蒋硕 宋杰 牡丹晚报全媒体记者 郭卫东",
        ),
        ("本报记者 贺莹莹 李广寅 段婷婷 彭 辉", ["贺莹莹", "李广寅", "段婷婷", "彭辉"], [], None),
        ("记者 董传周 通讯员 张凯", ["董传周"], ["张凯"], None),
        ("记者 王燕 通讯员 王传峰 曹红立", ["王燕"], ["王传峰", "曹红立"], None),
        ("通讯员 欧阳明月 司马光", [], ["欧阳明月", "司马光"], None),  # compound surname kept whole
        ("记者付凤臣", ["付凤臣"], [], "记者 付凤臣"),
        ("通讯员 郭玉华 高志房 吴张丽 牡丹晚报全媒", [], ["郭玉华", "高志房", "吴张丽"], None),
        ("通讯员 王合营时苏建", [], ["王合营", "时苏建"], "通讯员 王合营 时苏建"),
        ("通讯员 王合营时苏 记者 张三", ["张三"], [], None),  # 5 characters: not split, not listed
    ],
)
def test_people_of_a_credit(
    credit: str, reporters: list[str], correspondents: list[str], text: str | None
) -> None:
    parsed = parse_credit(credit)
    assert (parsed.reporters, parsed.correspondents) == (reporters, correspondents)
    assert parsed.text == (text or credit.replace("彭 辉", "彭辉"))


@pytest.mark.parametrize(
    ("text", "meta", "expected"),
    [
        ("7月28日,牡丹区召开会议。", NO_DATE, None),  # no year on the page: never guessed
        ("2月7日下午,威海召开推进会。", PUBLISHED, dt.date(2022, 2, 7)),
        ("2021年7月28日,会议召开。", NO_DATE, dt.date(2021, 7, 28)),  # the year as written
        ("12月30日,会议召开。", PageMeta(published_at=dt.datetime(2023, 1, 2)), dt.date(2022, 12, 30)),
        ("2月30日不存在,3月1日开会。", PUBLISHED, dt.date(2022, 3, 1)),
        ("今年以来成绩显著。", PUBLISHED, None),
    ],
)
def test_event_date(text: str, meta: PageMeta, expected: dt.date | None) -> None:
    assert event_date(text, meta) == expected


def event_date_in_one_pattern(text: str, meta: PageMeta) -> dt.date | None:
    """What `event_date` finds, as one pattern with the year optional (the definition)."""
    for m in re.finditer(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日", text):
        year, month, day = (int(g) if g else None for g in m.groups())
        assert month is not None and day is not None
        if year is not None:
            try:
                return dt.date(year, month, day)
            except ValueError:
                return None
        if meta.published_at is None:
            return None
        candidates = []
        for y in range(meta.published_at.year - 1, meta.published_at.year + 2):
            try:
                candidates.append(dt.date(y, month, day))
            except ValueError:
                continue
        if candidates:
            return min(candidates, key=lambda d: abs((d - meta.published_at.date()).days))
    return None


@settings(max_examples=400, deadline=None)
@given(text=st.text(alphabet="0123456789２年月日会 ", max_size=40), published=st.booleans())
def test_event_date_finds_the_date_the_one_pattern_finds(text: str, published: bool) -> None:
    meta = PUBLISHED if published else NO_DATE
    assert event_date(text, meta) == event_date_in_one_pattern(text, meta)


@pytest.mark.parametrize(
    "text", ["2022年12月9日", "12022年3月1日", "近3年12月9日", "2022年123月4日", "1999年2022年2月1日"]
)
def test_event_date_year_is_the_four_digits_right_before(text: str) -> None:
    for meta in (NO_DATE, PUBLISHED):
        assert event_date(text, meta) == event_date_in_one_pattern(text, meta)


def test_news_articles_with_bylines_titles_kickers_and_subtitles() -> None:
    articles = segment_page(
        paras(
            "全市一季度工业运行分析会议要求",
            "以起步即冲刺的姿态推进工业稳进提质",
            "本报讯(记者 时苏建)4月23日下午,全市一季度工业运行分析会议召开。",
            "王昌华要求,各县区要进一步认清形势。",
            "永丰街道会盟社区:",
            "党建引领“网格+”模式全面提升治理效能",
            "本报讯(记者 李萍)巨野县永丰街道会盟社区坚持以党建为引领。",
        ),
        NO_DATE,
    )
    assert [(a.kind, a.kicker, a.title, a.subtitle, a.reporters, len(a.paragraphs)) for a in articles] == [
        ("news", None, "全市一季度工业运行分析会议要求", "以起步即冲刺的姿态推进工业稳进提质", ["时苏建"], 2),
        ("news", "永丰街道会盟社区", "党建引领“网格+”模式全面提升治理效能", None, ["李萍"], 1),
    ]
    assert articles[0].paragraphs[0].text == "4月23日下午,全市一季度工业运行分析会议召开。"


def test_segment_leaves_its_input_unchanged() -> None:
    given = paras("标题", "本报讯(记者 张慧)4月21日,活动启动。", "工人在忙碌。通讯员 郭玉华 摄")
    segment_page(given, NO_DATE)
    assert [p.text for p in given] == [
        "标题",
        "本报讯(记者 张慧)4月21日,活动启动。",
        "工人在忙碌。通讯员 郭玉华 摄",
    ]


def test_photo_captions_with_and_without_titles() -> None:
    articles = segment_page(
        paras(
            "梵筑家居线上销售",
            "7月18日,电商主播进行直播销售。通讯员 鄢玉华 杨云 摄",
            "一企一策 精准服务",
            "7月25日,工人在生产线上忙碌。",
            "通讯员 郭玉华 郭继生 彭小珂 摄",
            "数控平台提升运输安全",
            "本报讯(通讯员 王合营)日前,平台运行半年。",
            "日前,村民在服饰厂工作。",
            "通讯员 郜玉华 孔得旺 摄",
            "据介绍,该平台实现了在线集中监控。",
        ),
        PageMeta(published_at=dt.datetime(2022, 8, 1)),
    )
    summary = [(a.kind, a.title, a.photographers, [p.text for p in a.paragraphs]) for a in articles]
    assert summary == [
        ("photo", "梵筑家居线上销售", ["鄢玉华", "杨云"], ["7月18日,电商主播进行直播销售。"]),
        ("photo", "一企一策 精准服务", ["郭玉华", "郭继生", "彭小珂"], ["7月25日,工人在生产线上忙碌。"]),
        ("news", "数控平台提升运输安全", [], ["日前,平台运行半年。", "据介绍,该平台实现了在线集中监控。"]),
        ("photo", None, ["郜玉华", "孔得旺"], ["日前,村民在服饰厂工作。"]),
    ]
    assert articles[0].event_date == dt.date(2022, 7, 18)
    assert articles[0].byline == "通讯员 鄢玉华 杨云 摄"


def test_marked_sections_and_headings() -> None:
    articles = segment_page(
        paras(
            "魅力牡丹区",
            "“非遗+旅游”拓展新空间",
            "本报讯(牡丹晚报全媒体记者 郭卫东) 12月9日,发布会举行。",
            heading=(0, 1),
        ),
        NO_DATE,
    )
    assert [(a.kind, a.title, a.reporters) for a in articles] == [
        ("section", "魅力牡丹区", []),
        ("news", "“非遗+旅游”拓展新空间", ["郭卫东"]),
    ]


def test_a_headline_printed_after_its_body_takes_the_paragraphs_that_match_it() -> None:
    articles = segment_page(
        paras(
            "党建引领网格模式全面提升治理效能",
            "本报讯(记者 李萍)会盟社区坚持以党建引领网格治理。",
            "网格员联合小区党支部开展治理活动,提升治理效能。",
            "东明县水务局组织学生开展节水宣传活动,走进校园。",
            "通过节水宣传进校园活动,孩子们学会了节约用水。 记者 张品",
            "小手拉大手 节水进校园",
            "——东明县水务局大力开展节水宣传活动侧记",
        ),
        NO_DATE,
    )
    assert [(a.title, a.subtitle, a.reporters, len(a.paragraphs)) for a in articles] == [
        ("党建引领网格模式全面提升治理效能", None, ["李萍"], 2),
        ("小手拉大手 节水进校园", "东明县水务局大力开展节水宣传活动侧记", ["张品"], 2),
    ]
    assert articles[1].paragraphs[-1].text == "通过节水宣传进校园活动,孩子们学会了节约用水。"


def test_agency_photo_inside_an_article_and_the_article_goes_on() -> None:
    articles = segment_page(
        paras(
            "动起来 跑起来 干起来",
            "□新华社发 2月7日,工人在生产车间内忙碌。",
            "■编者按 实干争春早,创新向未来。",
            "□ 本报记者 贺莹莹 彭 辉",
            "济南",
            "四级就业服务机构",
            "现场“解题”",
            "2月7日,推进会火热进行。",
        ),
        PUBLISHED,
    )
    assert [
        (a.kind, a.kicker, a.title, a.subtitle, a.byline, [p.text for p in a.paragraphs]) for a in articles
    ] == [
        (
            "news",
            None,
            "动起来 跑起来 干起来",
            None,
            "本报记者 贺莹莹 彭辉",
            ["编者按 实干争春早,创新向未来。"],
        ),
        ("photo", None, None, None, "新华社发", ["2月7日,工人在生产车间内忙碌。"]),
        ("news", "济南", "四级就业服务机构", "现场“解题”", None, ["2月7日,推进会火热进行。"]),
    ]


_TOKENS = st.sampled_from(
    [
        "牡丹区",
        "召开会议",
        "记者",
        "通讯员",
        " 郭卫东",
        " 张凯",
        "摄",
        "本报讯(",
        ")",
        "(",
        "本报记者 ",
        "□",
        "——",
        "## ",
        ":",
        ",",
        "。",
        "“",
        "”",
        "\n",
        "\n\n",
        "7月28日",
        "?(bào)",
        "報(bào)",
        "\ue78d",
        "  ",
        "新华社发 ",
        "编辑:李太斗",
    ]
)


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(_TOKENS, max_size=60), published=st.booleans())
def test_any_page_segments_without_error_into_loadable_rows(pieces: list[str], published: bool) -> None:
    from flows.steps.clean import clean_page
    from flows.steps.repair import repair_blocks

    page = clean_page("".join(pieces))
    articles = segment_page(repair_blocks(page.blocks), PUBLISHED if published else NO_DATE)
    assert [a.seq for a in articles] == list(range(len(articles)))
    for article in articles:
        assert article.kind in ("news", "photo", "section")
        assert all(p.text for p in article.paragraphs)
        people = article.reporters + article.correspondents + article.photographers
        assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", name) for name in people)
