"""Repair: rejoin paragraphs cut by breaks, never a headline, caption or finished paragraph."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flows.steps.model import Block
from flows.steps.repair import repair_blocks


def blocks(*lines: str, heading: tuple[int, ...] = ()) -> list[Block]:
    return [Block(text=t, raw=t, heading=i in heading, gap=[""]) for i, t in enumerate(lines)]


def joined(*lines: str, heading: tuple[int, ...] = ()) -> list[str]:
    return [p.text for p in repair_blocks(blocks(*lines, heading=heading))]


BODY = "牡丹区召开区委常委会会议,深入学习贯彻上级有关精神,安排部署下一步工作。"


def test_paragraph_cut_mid_sentence_is_rejoined() -> None:
    paras = repair_blocks(
        blocks(
            "非遗项目传承发展",
            "日前,传承人给学生讲解技艺,带动村民就业增收。近",
            "年来,牡丹区推动非遗项目传承发展。",
        )
    )
    assert [p.text for p in paras][
        1
    ] == "日前,传承人给学生讲解技艺,带动村民就业增收。近年来,牡丹区推动非遗项目传承发展。"
    assert paras[1].joined_from == 2
    assert paras[1].breaks == [len("日前,传承人给学生讲解技艺,带动村民就业增收。近")]
    assert (
        paras[1].text_raw
        == "日前,传承人给学生讲解技艺,带动村民就业增收。近\n\n年来,牡丹区推动非遗项目传承发展。"
    )


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # headline, then its byline and body: never joined
        (("汇聚人才力量,助力高质量发展", "本报讯(通讯员 鄢玉华) 记者7月27日获悉。"), 2),
        # photo title, caption, credit on its own line, next headline
        (
            (
                "一企一策 精准服务",
                "7月25日,工人在生产线上忙碌。",
                "通讯员 郭玉华 郭继生 摄",
                "牡丹区推广医保业务",
            ),
            4,
        ),
        # a caption closed by its credit does not run into the next article
        (("工人在调试设备,全面达产后年产值可达8亿元通讯员 郭玉华 刘青 摄", "一企一策 精准服务"), 2),
        # two finished paragraphs
        ((BODY, BODY), 2),
        # a headline stack: title and subtitle, then the byline
        (
            (
                "全市一季度工业运行分析会议要求",
                "以起步即冲刺的姿态推进工业稳进提质",
                "本报讯(记者 时苏建)4月23日下午,会议召开。",
            ),
            3,
        ),
        # kicker line ending in a colon
        (
            (
                "永丰街道会盟社区:",
                "党建引领“网格+”模式全面提升治理效能",
                "本报讯(记者 李萍)巨野县坚持党建引领。",
            ),
            3,
        ),
        # an article closed by its writer's credit, then the headline printed after it
        (("为水务事业高质量发展提供有力支撑。 记者 张品", "小手拉大手 节水进校园", "——东明县水务局侧记"), 3),
        # page 002's regional headline stack after a byline line
        (("□ 本报记者 贺莹莹 彭 辉", "济南", "四级就业服务机构", "现场“解题”", "2月7日,推进会火热进行。"), 5),
    ],
)
def test_headlines_captions_and_finished_paragraphs_stay_apart(lines: tuple[str, ...], expected: int) -> None:
    assert len(joined(*lines)) == expected


@pytest.mark.parametrize(
    ("head", "tail"),
    [
        ("聚焦打造功能化、立体式", "的“党群服务圈”,吴店镇建设完善了党群服务中心。"),  # 的 cannot start
        ("为深入推广“手机视频办医", "保”,让更多参保群众享受到方便快捷。"),  # open quote
        ("该镇现任东头村党支部副书", "记、东头农作物种植专业合作社监事长的张孝礼返乡创业。"),  # 记、
        ("会议指出,要找准问题差距,明确努力方向,切实增强稳经济促发展的压力感和", "紧迫感;要坚持目标引领。"),
        (
            "这些著名地标景点,既能使世界各地运动员直接了解到菏泽市的整体风貌,",
            "更能展现出菏泽日新月异的城市发展。",
        ),
        ("小留镇加快推进农业“新", "六产”融合发展。"),
        ("上半年为632名创业者发放创业贷款1", "13亿元。"),
    ],
)
def test_broken_heads_that_cannot_be_headlines_are_joined(head: str, tail: str) -> None:
    assert joined(BODY, head, tail) == [BODY, head + tail]


def test_marked_headings_are_never_joined_and_unmarked_lines_are_not_headlines() -> None:
    lines = (
        "魅力牡丹区",
        "“智慧云治理”推动乡村治理",
        "本报讯(通讯员 郜玉华)近年来,吴店镇着力创新。",
        "吴店镇建好建强村党支部书记",
        "队伍。",
    )
    assert joined(*lines, heading=(0, 1)) == [*lines[:3], "吴店镇建好建强村党支部书记队伍。"]


def test_byline_split_over_three_lines_is_rebuilt_and_the_body_kept() -> None:
    paras = repair_blocks(
        blocks(
            "微光成炬,点亮城市最美“志愿红”",
            "本报讯(通讯员 郭玉华)",
            "蒋硕宋杰 牡丹晚报全媒",
            "媒体记者 郭卫东)“大娘您好……”",
            "7月25日,志愿者上门采样。",
        )
    )
    assert [p.text for p in paras] == [
        "微光成炬,点亮城市最美“志愿红”",
        "本报讯(通讯员 郭玉华 蒋硕宋杰 牡丹晚报全媒 媒体记者 郭卫东)“大娘您好……”",
        "7月25日,志愿者上门采样。",
    ]
    assert paras[1].joined_from == 3
    assert paras[1].text_raw.splitlines()[::2] == [
        "本报讯(通讯员 郭玉华)",
        "蒋硕宋杰 牡丹晚报全媒",
        "媒体记者 郭卫东)“大娘您好……”",
    ]


def test_a_byline_cut_short_is_closed_and_the_text_after_it_stays_body() -> None:
    paras = repair_blocks(
        blocks(
            "高庄镇:创贷政策促发展",
            "本报讯(通讯员 郭玉华)",
            "高志房 吴张丽 牡丹晚报全媒",
            "记者、东头农作物种植专业合作社监事长的张孝礼返乡创业。",
        )
    )
    assert (
        paras[1].text
        == "本报讯(通讯员 郭玉华 高志房 吴张丽 牡丹晚报全媒)记者、东头农作物种植专业合作社监事长的张孝礼返乡创业。"
    )


# --- properties ------------------------------------------------------------------------

_han = st.sampled_from(
    "牡丹区召开会议深入学习贯彻上级有关精神通报年度高质量发展综合绩效考核情况研究分析全区经济社会"
)
_sentence = st.lists(_han, min_size=4, max_size=30).map("".join)
_paragraph = st.lists(_sentence, min_size=1, max_size=6).map(lambda ss: ",".join(ss) + "。")


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.one_of(_paragraph, _sentence), min_size=1, max_size=10))
def test_joining_then_resplitting_at_the_breaks_gives_the_original_blocks(lines: list[str]) -> None:
    paras = repair_blocks(blocks(*lines))
    pieces = []
    for p in paras:
        cuts = [0, *p.breaks, len(p.text)]
        pieces += [p.text[a:b] for a, b in itertools.pairwise(cuts)]
        assert len(cuts) - 1 == p.joined_from
    assert pieces == lines


@settings(max_examples=300, deadline=None)
@given(
    paragraphs=st.lists(_paragraph, min_size=1, max_size=5),
    cuts=st.lists(st.floats(0.01, 0.99), min_size=5, max_size=5),
    which=st.lists(st.booleans(), min_size=5, max_size=5),
)
def test_body_paragraphs_cut_anywhere_but_a_sentence_end_are_rejoined(
    paragraphs: list[str], cuts: list[float], which: list[bool]
) -> None:
    lines = ["牡丹区凝聚高质量发展强大合力", "本报讯(通讯员 鄢玉华) 7月28日,会议召开。"]
    for para, cut, broken in zip(paragraphs, cuts, which, strict=False):
        at = max(1, min(len(para) - 1, round(cut * len(para))))
        assume(para[at - 1] not in "。")
        lines += [para[:at], para[at:]] if broken else [para]
    assert joined(*lines) == [
        "牡丹区凝聚高质量发展强大合力",
        "本报讯(通讯员 鄢玉华) 7月28日,会议召开。",
        *paragraphs,
    ]
