"""Generated damaged pages with known truth, for the restore stages (issue 3).

`generate(pages, seed)` builds pages the way the seeds are laid out (headline, byline,
body paragraphs, photos with captions and credits, blank lines between lines) from clean
material taken from the seeds, then damages them the ways the seeds are damaged, and
records on every line what it is:

- breaks: a body paragraph or caption is cut (30 % of them; one in ten of those twice)
  at a uniformly random character position. Not right after a sentence end: a break there
  leaves two finished paragraphs, which no reader can tell from two real ones, so the
  truth could not say "join". Sometimes the break leaves a whitespace-only line too
  (seed 000, line 29);
- bylines split over three lines as on page 001 (`本报讯(通讯员 A)` / `B C 牡丹晚报全媒` /
  `媒体记者 D)first words…`);
- web boilerplate (40 % of pages), in the forms page 002 has and common variants: a
  navigation menu (4-10 items), a breadcrumb, a source or publish-time line, font-size and
  share/print buttons at the top; an editor line, related links (`相关推荐`, `上一篇:…`),
  comment prompts, a menu bar (`关于我们 | …`) and copyright / ICP / licence /
  report-hotline footers at the bottom;
- Traditional script (25 % of pages) through OpenCC s2t, with pinyin glued after the
  characters page 002 annotates, and now and then a lost character (`?` + reading + `)`).

Clean material: headlines of the seeds (hand-listed below), reporters' names from the
seeds' bylines, and body paragraphs: seed lines that are whole paragraphs as printed
(they end a sentence, are at least 30 characters, hold no credit or byline).

    uv run python bench/restore_corpus.py      # prints one generated page
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import opencc

SEEDS = Path(__file__).resolve().parents[1] / "seeds"

TITLES = (
    "牡丹区凝聚高质量发展强大合力",
    "汇聚人才力量,助力高质量发展",
    "开启“学习强国”助农学习新体验",
    "微光成炬,点亮城市最美“志愿红”",
    "牡丹区推广“手机视频办医保”业务",
    "南城街道:“敲门敲窗”逐人排查",
    "高庄镇:创贷政策促发展",
    "李村镇:300余村民就业公益岗",
    "市审计局驻村工作组助推黄河滩区产业发展",
    "曹县卫健局以党建引领优化营商环境建设",
    "省内儿科领域知名专家到市中医医院授课",
    "定陶区:“创业乡情贷”让创业者跑出“加速度”",
    "“智慧云治理”推动乡村治理变“智理”",
    "“非遗+旅游”拓展非遗活化新空间",
    "小留镇:“农”墨重彩促振兴",
    "聚焦主责主业,增进民生福祉",
    "“数控平台”提升道路运输安全水平",
    "以花为媒,绘就乡村振兴新图景",
    "打造高规格高品质高起点标杆赛事",
    "党建引领“网格+”模式全面提升治理效能",
)
SUBTITLES = ("以起步即冲刺的姿态推进工业稳进提质", "——东明县水务局大力开展节水宣传活动侧记")
PHOTO_TITLES = (
    "非遗项目传承发展",
    "梵筑家居线上销售",
    "食品产业 “绿”意盎然",
    "一企一策 精准服务",
    "团省委领导到菏泽技师学院调研",
)
NAMES = tuple(
    [
        "鄢玉华",
        "蒋硕",
        "宋杰",
        "丁其坤",
        "郭卫东",
        "顾文雅",
        "杨云",
        "晁瑞君",
        "孔得旺",
        "吴先锋",
        "郭玉华",
        "刘青",
        "郭继生",
        "彭小珂",
        "李作胜",
        "赵永丽",
        "周喆",
        "高志房",
        "吴张丽",
        "林志刚",
        "时苏建",
        "张慧",
        "马鹏超",
        "董传周",
        "张凯",
        "王燕",
        "王传峰",
        "曹红立",
        "付凤臣",
        "马琳",
        "邵赛娜",
        "邵刚",
        "陈晨",
        "李萍",
        "张品",
        "郜玉华",
        "闫雪凯",
        "王肖慧",
        "王合营",
        "贺莹莹",
        "李广寅",
        "段婷婷",
    ]
)
NAV = ("锐评", "要闻", "视听", "图说", "热线", "部门", "县域", "数字报", "看电视", "听广播")
_SENTENCE_END = re.compile(r"[。!?…][”’」』)]*$")
BREAK_SHARE, SECOND_BREAK_SHARE, SPLIT_BYLINE_SHARE = 0.30, 0.10, 0.30
WEB_SHARE, TRADITIONAL_SHARE, LOST_CHAR_SHARE = 0.40, 0.25, 0.02


@dataclass
class Line:
    raw: str
    kind: str  # content / boilerplate / blank
    para: int | None = None  # index of the true paragraph a content line belongs to


@dataclass
class TrueParagraph:
    text: str  # the clean Simplified text repair should give (None-free; byline pieces spaced)
    role: str  # title / body / caption / credit / byline-body
    lost_chars: int = 0


@dataclass
class Page:
    lines: list[Line] = field(default_factory=list)
    paragraphs: list[TrueParagraph] = field(default_factory=list)
    traditional: bool = False

    @property
    def text(self) -> str:
        return "\n".join(line.raw for line in self.lines)


# Every headline line of the seeds (hand-listed): a seed line right after one of these, or
# after a finished sentence, starts a paragraph.
SEED_HEADLINES = frozenset(
    (
        *TITLES,
        *PHOTO_TITLES,
        *SUBTITLES,
        "全市一季度工业运行分析会议要求",
        "2023“世界地球日”和“爱鸟周”主题宣传活动启动",
        "威武:规范“属地管理”推动基层社会治理效能",
        "2023“华瑞·华小粮杯”菏泽马拉松赛前各项准备工作有序推进",
        "永丰街道会盟社区:",
        "小手拉大手 节水进校园",
        "## 魅力牡丹区",
    )
)


@functools.cache
def body_paragraphs() -> tuple[str, ...]:
    """Seed lines that are whole paragraphs as printed (byline prefix taken off)."""
    found = []
    for path in sorted(SEEDS.glob("*.txt")):
        if path.name.startswith("002"):  # Traditional with pinyin: not clean material
            continue
        previous = ""
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line:
                continue
            starts = (
                line.startswith("本报讯(")
                or previous[-1:] in ("。", "”", "!", "?")
                or previous.removeprefix("## ") in SEED_HEADLINES
            )
            previous = line
            line = re.sub(r"^本报讯\([^()]*\)\s*", "", line)
            if (
                starts
                and len(line) >= 30
                and line[-1] in "。”"
                and not re.search(r"记者\s*\S{2,3}$|摄$", line)
            ):
                found.append(line)
    return tuple(dict.fromkeys(found))


@functools.cache
def readings() -> dict[str, str]:
    """Traditional character -> the reading page 002 glues after it."""
    text = (SEEDS / "002_1b2a2514c54c993d.txt").read_text(encoding="utf-8")
    return dict(re.findall(r"([\u4e00-\u9fff])\(([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+)\)", text))


@functools.cache
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


class _Writer:
    def __init__(self, rng: random.Random, traditional: bool) -> None:
        self.rng = rng
        self.page = Page(traditional=traditional)

    def blank(self, n: int | None = None) -> None:
        for _ in range(n if n is not None else self.rng.choice((1, 1, 1, 2, 3))):
            self.page.lines.append(Line("", "blank"))

    def furniture(self, lines: list[str]) -> None:
        """Boilerplate lines ("" is a blank line between them)."""
        self.page.lines.extend(Line(text, "boilerplate" if text else "blank") for text in lines)

    def paragraph(self, text: str, role: str) -> int:
        self.page.paragraphs.append(TrueParagraph(text, role))
        return len(self.page.paragraphs) - 1

    def content(self, raw: str, para: int) -> None:
        self.page.lines.append(Line(raw, "content", para))

    def damage(self, text: str, para: int) -> str:
        """Traditional script, glued pinyin, lost characters (recorded in the truth)."""
        if not self.page.traditional:
            return text
        out = []
        for ch in _s2t().convert(text):
            reading = readings().get(ch)
            if reading and self.rng.random() < LOST_CHAR_SHARE:
                out.append(f"?{reading})")
                self.page.paragraphs[para].lost_chars += 1
                continue
            out.append(ch + (f"({reading})" if reading else ""))
        return "".join(out)

    def write(self, text: str, role: str, breakable: bool, keep_end: int = 0) -> None:
        """One paragraph, cut by breaks when it may be (not in its last `keep_end` characters)."""
        para = self.paragraph(text, role)
        pieces = [text]
        if breakable and self.rng.random() < BREAK_SHARE:
            pieces = self._cut(text, 2 if self.rng.random() < SECOND_BREAK_SHARE else 1, keep_end)
        for i, piece in enumerate(pieces):
            if i:
                self.blank()
                if self.rng.random() < 0.2:
                    self.page.lines.append(Line(" ", "blank"))
                    self.blank(1)
            self.content(("  " if self.page.traditional else "") + self.damage(piece, para), para)
        self.blank()

    def _cut(self, text: str, n: int, keep_end: int) -> list[str]:
        points = [i for i in range(1, len(text) - keep_end) if not _SENTENCE_END.search(text[:i])]
        cuts = sorted(self.rng.sample(points, min(n, len(points))))
        return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]


def _news(w: _Writer, rng: random.Random) -> None:
    if rng.random() < 0.2:
        w.write(rng.choice(("永丰街道会盟社区:", "高新区:")), "title", breakable=False)
    w.write(rng.choice(TITLES), "title", breakable=False)
    if rng.random() < 0.15:
        w.write(SUBTITLES[0], "title", breakable=False)
    correspondents = rng.sample(NAMES, rng.randint(1, 3))
    reporter = rng.choice(NAMES)
    body = rng.sample(body_paragraphs(), rng.randint(1, 5))
    first = body.pop(0)
    if len(correspondents) >= 2 and rng.random() < SPLIT_BYLINE_SHARE:
        # Page 001's layout: the byline over three lines, the body on the third; two-character
        # names run together there ("蒋硕宋杰"), longer ones are spaced.
        rest = correspondents[1:]
        names = ("" if all(len(n) == 2 for n in rest) else " ").join(rest)
        para = w.paragraph(
            f"本报讯(通讯员 {correspondents[0]} {names} 牡丹晚报全媒 媒体记者 {reporter}){first}",
            "byline-body",
        )
        for i, raw in enumerate(
            (
                f"本报讯(通讯员 {correspondents[0]})",
                f"{names} 牡丹晚报全媒",
                f"媒体记者 {reporter})" + w.damage(first, para),
            )
        ):
            if i:
                w.blank()
            w.content(raw, para)
        w.blank()
    else:
        byline = f"本报讯(通讯员 {' '.join(correspondents)} 牡丹晚报全媒体记者 {reporter}) "
        w.write(byline + first, "byline-body", breakable=True)
    for text in body:
        w.write(text, "body", breakable=True)


def _photo(w: _Writer, rng: random.Random) -> None:
    if rng.random() < 0.8:
        w.write(rng.choice(PHOTO_TITLES), "title", breakable=False)
    caption = rng.choice(body_paragraphs())
    credit = f"通讯员 {' '.join(rng.sample(NAMES, rng.randint(1, 3)))} 摄"
    if rng.random() < 0.5:
        w.write(caption + credit, "caption", breakable=True, keep_end=len(credit))
    else:
        w.write(caption, "caption", breakable=True)
        w.write(credit, "credit", breakable=False)


def _top_furniture(rng: random.Random) -> tuple[list[str], list[str]]:
    """Menu and breadcrumb above the first article; source/time and buttons below its headline."""
    menu = [
        *rng.sample(NAV, rng.randint(4, len(NAV))),
        "",
        rng.choice(("您的位置:首页>要闻 > 山东 >", "当前位置:首页 > 新闻 > 本地", "首页 > 要闻")),
    ]
    date = f"2022-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
    meta = [
        rng.choice((f"来源:大众日报 {date} 19:41:46", f"发布时间:{date} 08:30", "来源:新华社")),
        rng.choice(("A+A-", "字号:大 中 小")),
        rng.choice(("分享", "分享到:", "【打印】【关闭】", "扫一扫")),
    ]
    return menu, meta


def _bottom_furniture(rng: random.Random) -> list[str]:
    return [
        rng.choice((f"编辑:{rng.choice(NAMES)}", f"(责任编辑:{rng.choice(NAMES)})")),
        rng.choice(("相关推荐", "相关新闻", "【相关阅读】", f"上一篇:{rng.choice(TITLES)}")),
        "",
        "",
        rng.choice(("网友评论", "我要评论", f"共{rng.randint(0, 99)}条评论", "请文明上网,理性发言")),
        rng.choice(
            (
                "关于我们 | 广告服务 | 版权声明 | 联系我们 | 跟帖评论自律管理承诺书",
                "首页 | 新闻 | 视频 | 图片 | 专题",
            )
        ),
        "",
        rng.choice(
            (
                "聊城新闻网 2006-2023 版权所有 聊城市新闻传媒中心 联合主办",
                "Copyright © 2006-2023 lcxw.cn All Rights Reserved",
            )
        ),
        f"互联网新闻信息服务许可证编号:3712018{rng.randint(1000, 9999)} 鲁ICP备0908{rng.randint(1000, 9999)}号",
        f"本网违法和不良信息举报电话:1866350{rng.randint(1000, 9999)} 举报邮箱:lcxw@lcxw.cn",
    ]


def generate(pages: int, seed: int = 3) -> list[Page]:
    rng = random.Random(seed)
    out = []
    for _ in range(pages):
        web = rng.random() < WEB_SHARE
        w = _Writer(rng, traditional=rng.random() < TRADITIONAL_SHARE)
        w.blank(rng.choice((0, 2)))
        menu, meta = _top_furniture(rng)
        if web:
            w.furniture(menu)
            w.blank(1)
        for i in range(rng.randint(2, 7)):
            (_photo if rng.random() < 0.25 else _news)(w, rng)
            if web and i == 0:
                w.furniture(meta)
                w.blank()
        if web:
            w.furniture(_bottom_furniture(rng))
        if w.page.traditional:
            for line in w.page.lines:
                if line.kind == "boilerplate":
                    line.raw = _s2t().convert(line.raw)
        out.append(w.page)
    return out


if __name__ == "__main__":
    page = generate(1, seed=7)[0]
    print(page.text)
    boilerplate = sum(line.kind == "boilerplate" for line in page.lines)
    print(f"\n{len(page.paragraphs)} true paragraphs, {boilerplate} boilerplate lines")
