"""Clean: boilerplate out with metadata kept, pinyin out, lost characters flagged, t2s on Traditional only."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.steps.clean import clean_page, detect_script, traditional_only_chars

WEB_PAGE = """銳評(píng)
要聞
視聽
數(shù)字報(bào)
看電視

您的位置:首頁>要聞 > 山東 >

動(dòng)起來 跑起來

來源:大眾日?qǐng)?bào)  2022-02-08 19:41:46
A+A-
分享

  煙臺(tái)一家工程機(jī)械生產(chǎn)企業(yè)忙碌。

編輯:李太斗
相關(guān)推薦
網(wǎng)友評(píng)論
關(guān)於我們 | 廣告服務(wù) | 版權(quán)聲明 | 聯(lián)系我們
聊城新聞網(wǎng) 2006-2023 版權(quán)所有
互聯(lián)網(wǎng)新聞信息服務(wù)許可證編號(hào):37120180030 魯ICP備09083931號(hào)
本網(wǎng)違法和不良信息舉報(bào)電話:18663509279 舉報(bào)郵箱:lcxw@lcxw.cn
"""


def texts(page_text: str) -> list[str]:
    return [b.text for b in clean_page(page_text).blocks]


def test_web_boilerplate_goes_and_page_metadata_stays() -> None:
    page = clean_page(WEB_PAGE)
    assert [b.text for b in page.blocks] == ["动起来 跑起来", "烟台一家工程机械生产企业忙碌。"]
    assert (page.meta.source, page.meta.published_at, page.meta.editor) == (
        "大众日报",
        dt.datetime(2022, 2, 8, 19, 41, 46),
        "李太斗",
    )
    assert page.script == "traditional"
    # 5 menu lines, breadcrumb, source, A+A-, 分享, editor, 相关推荐, 网友评论, 4 footer lines
    assert page.stats.boilerplate_lines == 16
    assert (
        page.blocks[1].raw == "  煙臺(tái)一家工程機(jī)械生產(chǎn)企業(yè)忙碌。"
    )  # text_raw keeps the line


@pytest.mark.parametrize(
    "line",
    [
        "该局为企业办理了食品经营许可证编号登记等手续。",  # a sentence mentioning a licence
        "分享经济正在改变城市生活。",
        "关于我们村的发展,村民有很多话要说。",
        "市场监管局公布了举报电话,方便群众反映问题。",
    ],
)
def test_news_sentences_that_mention_boilerplate_words_are_kept(line: str) -> None:
    assert texts(f"标题\n\n{line}\n") == ["标题", line]


def test_short_headline_lines_are_not_a_menu() -> None:
    assert texts("春节快乐\n\n本报讯 全市各地喜迎新春。\n") == ["春节快乐", "本报讯 全市各地喜迎新春。"]
    # a headline stack typed without blank lines, at the top and between articles
    stack = ["垦利", "打消年气", "投身生产建设一线"]
    body = "节后第一天,垦利区迅速打消年气。"
    assert texts("\n".join([*stack, body, *stack, body])) == [*stack, body, *stack, body]
    # four menu items in the middle of the text are text too
    middle = ["一等奖", "二等奖", "三等奖", "优秀奖"]
    assert texts("\n".join([body, *middle, body])) == [body, *middle, body]


@pytest.mark.parametrize(
    ("line", "clean"),
    [
        ("報(bào)道", "报道"),
        ("綠(lǜ)色發(fā)展", "绿色发展"),
        ("女(nǚ)士與(yǔ)兒(ér)童", "女士与儿童"),
        ("全（quán）國（guó）", "全国"),  # full-width brackets
        ("學習強國APP(AI)與(yǔ)app(app)", "学习强国APP(AI)与app(app)"),  # not readings
        ("區(qū)縣(街道)", "区县(街道)"),  # Han in brackets is text
    ],
)
def test_pinyin_readings_glued_after_characters_are_removed(line: str, clean: str) -> None:
    page = clean_page(line + "。")
    assert [b.text for b in page.blocks] == [clean + "。"]


def test_lost_characters_are_removed_and_flagged_never_silently() -> None:
    page = clean_page("這是一個?(qǐng)測試。\n\n沒有問題的段落。\n\n私用\ue78d字符。\n")
    assert [(b.text, b.flags) for b in page.blocks] == [
        ("这是一个测试。", ["lost_char"]),
        ("没有问题的段落。", []),
        ("私用字符。", ["lost_char"]),
    ]
    assert page.stats.lost_chars == 2


def test_a_lost_character_is_restored_when_the_page_reads_it_elsewhere() -> None:
    page = clean_page("大眾日報(bào)。\n\n來源:大眾日?bào)  2022-02-08\n\n新聞?wén)?xyzzy)。\n")
    assert page.meta.source == "大众日报"
    assert page.stats.restored_chars == 1
    assert page.blocks[0].flags == []


def test_bytes_shifted_after_a_lost_character_are_realigned() -> None:
    # Page 002: "當地人力資源" arrived as "當(dāng)?shù)厝肆\ue78dY源".
    page = clean_page("當(dāng)?shù)厝肆\ue78dY源供給。數(shù)字術(shù)語。")
    assert [(b.text, b.flags) for b in page.blocks] == [("当人力资源供给。数字术语。", ["lost_char"])]


def test_simplified_text_never_goes_through_t2s() -> None:
    # t2s would turn 於 into 于 and 乾 into 干; a Simplified page keeps them.
    text = "他於是扭转乾坤,干部们都很高兴。"
    page = clean_page(text)
    assert (page.script, page.blocks[0].text, page.stats.converted_chars) == ("simplified", text, 0)


def test_mixed_page_converts_only_the_lines_with_traditional_characters() -> None:
    simplified = [f"这是第{i}段简体中文的新闻内容,于是大家都来了。" for i in range(30)]
    page = clean_page("\n\n".join([*simplified, "這是一行繁體字。"]))
    assert page.script == "mixed"
    assert [b.text for b in page.blocks] == [*simplified, "这是一行繁体字。"]


def test_markdown_headings_indentation_and_stray_whitespace() -> None:
    page = clean_page("## 魅力牡丹区\n\n\u3000\u3000近年来,  牡丹区 \t 着力创新。 \n\n#话题# 不是标题。\n")
    assert [(b.text, b.heading) for b in page.blocks] == [
        ("魅力牡丹区", True),
        ("近年来, 牡丹区 着力创新。", False),
        ("#话题# 不是标题。", False),
    ]
    assert page.blocks[1].gap == [""]  # the blank line before it, as read


def test_full_width_ascii_forms_become_the_half_width_forms_the_pages_use() -> None:
    assert texts("本报讯（记者　张慧）４月２１日，活动启动！") == ["本报讯(记者 张慧)4月21日,活动启动!"]


def test_script_detection() -> None:
    assert detect_script("简体中文的新闻。") == "simplified"
    assert detect_script("繁體中文的新聞報導。") == "traditional"
    assert detect_script("简体中文的新闻内容比较长,这里只有一个繁體字。" * 3) == "mixed"


# --- property: cleaning never loses a Han character that was not boilerplate or pinyin --

SIMPLIFIED_HAN = sorted(
    {chr(c) for c in range(0x4E00, 0x9FA6)}
    - traditional_only_chars()
    - set("乾於後徵夥捱摺甯菸薹醣麴麽吒榘")  # characters t2s would still change
)
_han = st.sampled_from(SIMPLIFIED_HAN[:3000])
_reading = st.sampled_from(["(bào)", "(lǜ)", "(zhōng)", "(guó)", "(nǚ)", "(ér)"])
_piece = st.one_of(
    st.tuples(_han, st.just("")),
    st.tuples(_han, _reading),  # a reading glued after the character
    st.tuples(st.sampled_from([",", "、", " ", "2022", "“", "”"]), st.just("")),
)
_line = st.lists(_piece, min_size=1, max_size=40).map(lambda ps: "".join(a + b for a, b in ps) + "。")
_han_re = re.compile("[\u4e00-\u9fff]")


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(_line, min_size=1, max_size=12), indent=st.sampled_from(["", "  ", "\u3000\u3000"]))
def test_cleaning_keeps_every_han_character_that_is_not_pinyin_or_boilerplate(
    lines: list[str], indent: str
) -> None:
    page = clean_page("\n\n".join(indent + line for line in lines))
    kept = "".join(b.text for b in page.blocks)
    assert _han_re.findall(kept) == _han_re.findall("".join(lines))
    assert not re.search(r"\([a-zü\u00e0-\u01dc]+\)", kept)
    assert [b.raw for b in page.blocks] == [indent + line for line in lines]


@pytest.mark.parametrize(
    "line",
    [
        "当前位置:首页 > 新闻 > 本地",
        "首页 > 要闻",
        "字号:大 中 小",
        "分享到:",
        "【打印】【关闭】",
        "【相关阅读】",
        "上一篇:牡丹区凝聚高质量发展强大合力",
        "共12条评论",
        "请文明上网,理性发言",
        "首页 | 新闻 | 视频 | 图片",
        "Copyright © 2006-2023 lcxw.cn All Rights Reserved",
        "广播电视节目制作经营许可证(鲁)字第720号",
    ],
)
def test_common_web_furniture_variants_are_dropped(line: str) -> None:
    page = clean_page(f"标题\n\n{line}\n\n正文第一段。\n")
    assert ([b.text for b in page.blocks], page.stats.boilerplate_lines) == (["标题", "正文第一段。"], 1)


def test_publish_time_line_and_bracketed_editor_become_metadata() -> None:
    page = clean_page("标题\n\n发布时间:2022-02-08 08:30\n\n正文。\n\n(责任编辑:李太斗)\n")
    assert (page.meta.published_at, page.meta.editor) == (dt.datetime(2022, 2, 8, 8, 30), "李太斗")
