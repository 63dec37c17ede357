"""Segment: split a page's paragraphs into articles with titles, bylines, people and dates.

Each paragraph is first given a role:

- title: a Markdown heading; on pages without marked headings, a short unfinished line
  that reads as a headline (`repair.title_like`), or a `——…` subtitle line;
- byline: `本报讯(…)…`, `(记者 …)…`, `□ 本报记者 …` (the rest of the paragraph is body);
- photo credit on its own line: `通讯员 X Y 摄`; a caption is the paragraph that ends in
  such a credit or stands right before one, or opens with an agency credit (`□新华社发`);
- body: everything else.

Then articles are built in page order:

- consecutive title lines form a headline stack: a first line ending in `:` is the kicker
  (`永丰街道会盟社区:`), and so is a short place label (<= 4 characters) heading a stack of
  three (page 002: `济南` / `四级就业服务机构` / `现场“解题”`); `——` lines are subtitles; the
  first other line is the title and further lines join the subtitle. On pages with marked
  headings, a heading followed directly by another is a section (`## 魅力牡丹区`);
- a headline stack followed by a caption and then by another stack (or the page end) is that
  photo's title; a caption anywhere else is a photo of its own, without a title, and the
  article around it goes on after it;
- a stack with nothing after it is a headline printed after its body (page 003's
  `——…侧记`): the preceding article's paragraphs are split between that article and this
  one where the paragraphs' character bigrams best match each one's headline;
- a writer's credit closing a paragraph (`… 记者 张品`) is the byline of the article that
  paragraph ends.

People: role words (`通讯员` -> correspondents; `记者`, `本报记者`, `…全媒体记者`, a newspaper's
name -> reporters) switch the list the following names go to. Two single characters in a
row are one name typeset with a space (`彭 辉`). A 4-character run with no space is split
into two 2-character names (`蒋硕宋杰` -> 蒋硕, 宋杰): Han names are mostly 2-3 characters,
and a 4-character name needs a compound surname, so the run is kept whole when it starts
with one (`欧阳…`); a 6-character run is two 3-character names. Other runs (5, 7+
characters) cannot be split with any confidence: they stay in the byline text and are not
listed as people. A byline the page cut short keeps the names it has (page 001:
`通讯员 郭玉华 高志房 吴张丽 牡丹晚报全媒`, the reporter's name lost).

Dates: the first `M月D日` of an article's text; the year is the one written with it
(`2022年7月28日`), else the year that puts the date nearest the page's publish time, else
none (NULL): a year is never guessed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field, replace

from flows.steps.model import Article, PageMeta, Paragraph
from flows.steps.repair import (
    CJK,
    NAMES,
    PHOTO_CREDIT_END,
    ROLE_WORD,
    STANDALONE_PHOTO_CREDIT,
    WRITER_CREDIT_END,
    title_like,
)

_BYLINE = re.compile(
    r"^(?:本报讯\s*\((?P<a>[^()]{1,100})\)|\((?P<b>(?:本报)?(?:记者|通讯员)[^()]{0,100})\)"
    rf"|[□■]?\s*(?P<c>本报记者\s+{NAMES})$)\s*"
)
_AGENCY_CREDIT = re.compile(rf"^[□■]?\s*(?P<credit>新华社(?:记者\s*(?P<names>{NAMES})\s*)?[发摄])\s*")
_BULLET = re.compile(r"^[□■]\s*")
_SUBTITLE = re.compile(r"^——+")
# A date 'M月D日', and the year written right before it, as two patterns: as one,
# `(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日`, it has no fixed character to find first, and
# Python's regex engine tried it at every character of every article (0.10 s per 2.6 M
# characters, against 0.03 s).
_DATE = re.compile(r"(\d{1,2})月(\d{1,2})日")
_YEAR = re.compile(r"(\d{4})年")
_YEAR_CHARS = 5  # four digits and 年
COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "令狐",
        "司徒",
        "夏侯",
        "长孙",
        "宇文",
        "轩辕",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "呼延",
        "澹台",
        "申屠",
    ]
)
KICKER_LABEL_CHARS = 4
_HAN_RUN = re.compile(f"[{CJK}]+")


# --- people -------------------------------------------------------------------------------


@dataclass
class Credit:
    text: str  # canonical: role words and names separated by spaces
    reporters: list[str] = field(default_factory=list)
    correspondents: list[str] = field(default_factory=list)

    @property
    def everyone(self) -> list[str]:
        return self.reporters + self.correspondents


def _names(token: str) -> list[str]:
    """Names in a run of Han characters with no space (see the module docstring)."""
    if not _HAN_RUN.fullmatch(token):
        return []
    if len(token) == 4 and token[:2] not in COMPOUND_SURNAMES:
        return [token[:2], token[2:]]
    if len(token) == 6:  # two names of three, the commonest length
        return [token[:3], token[3:]]
    return [token] if 2 <= len(token) <= 4 else []


def parse_credit(credit: str) -> Credit:
    """'通讯员 郭玉华 蒋硕宋杰 牡丹晚报全媒媒体记者 郭卫东' -> correspondents / reporters."""
    # A role word glued to a name ("记者付凤臣") and a character repeated at a line break
    # inside a role word ("全媒" / "媒体记者") are undone first.
    credit = re.sub(rf"(通讯员|记者)(?=[{CJK}])", r"\1 ", re.sub(r"全媒\s*媒?体", "全媒体", credit))
    result = Credit(text="")
    words: list[str] = []
    role = result.reporters
    single: str | None = None  # first half of a two-character name typeset "彭 辉"
    for token in credit.split():
        if token.endswith("通讯员"):
            role, single = result.correspondents, None
            words.append(token)
        elif ROLE_WORD.search(token):
            role, single = result.reporters, None
            words.append(token)
        elif len(token) == 1 and _HAN_RUN.fullmatch(token):
            if single is None:
                single = token
                continue
            role.append(single + token)
            words.append(single + token)
            single = None
        else:
            names = _names(token)
            role.extend(names)
            words.extend(names or [token])  # a run we cannot split stays in the byline text
    if single is not None:
        words.append(single)
    result.text = " ".join(words)
    return result


# --- dates --------------------------------------------------------------------------------


def event_date(text: str, meta: PageMeta) -> dt.date | None:
    """The first 'M月D日' in the text; the year as written, else from the page, else None."""
    for m in _DATE.finditer(text):
        month, day = int(m[1]), int(m[2])
        before = m.start() - _YEAR_CHARS
        written = _YEAR.fullmatch(text, before, m.start()) if before >= 0 else None
        if written is not None:
            return _date(int(written[1]), month, day)
        if meta.published_at is None:
            return None
        published = meta.published_at.date()
        candidates = [
            d for y in (published.year - 1, published.year, published.year + 1) if (d := _date(y, month, day))
        ]
        if candidates:
            return min(candidates, key=lambda d: abs((d - published).days))
    return None


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


# --- roles of paragraphs ------------------------------------------------------------------


@dataclass
class _Item:
    role: str  # title / byline / credit / caption / body
    para: Paragraph
    byline: Credit | None = None  # byline paragraphs; writer credits closing a body paragraph
    photographers: list[str] = field(default_factory=list)
    credit_text: str | None = None  # a caption's photo credit as printed


def _classify(paragraphs: list[Paragraph]) -> list[_Item]:
    marked = any(p.heading for p in paragraphs)
    items: list[_Item] = []
    for i, given in enumerate(paragraphs):
        # Bylines and credits are cut out of the text: work on a copy, the input stays as is.
        para = replace(given, flags=list(given.flags), breaks=list(given.breaks))
        text = para.text
        nxt = paragraphs[i + 1].text if i + 1 < len(paragraphs) else ""
        if STANDALONE_PHOTO_CREDIT.match(text):
            items.append(_Item("credit", para, credit_text=text))
        elif m := _BYLINE.match(text):
            credit = parse_credit(m["a"] or m["b"] or m["c"])
            para.text = text[m.end() :]
            items.append(_Item("byline", para, byline=credit))
        elif m := _AGENCY_CREDIT.match(text):
            para.text = text[m.end() :]
            names = parse_credit(m["names"]).everyone if m["names"] else []
            items.append(_Item("caption", para, photographers=names, credit_text=m["credit"]))
        elif m := PHOTO_CREDIT_END.search(text):
            para.text = text[: m.start()].rstrip()
            items.append(
                _Item("caption", para, photographers=parse_credit(m["names"]).everyone, credit_text=m.group())
            )
        elif not para.heading and STANDALONE_PHOTO_CREDIT.match(nxt):
            items.append(_Item("caption", para))
        elif para.heading or (not marked and (title_like(text) or _is_subtitle(text))):
            items.append(_Item("title", para))
        else:
            item = _Item("body", para)
            if m := WRITER_CREDIT_END.search(text):
                item.byline = parse_credit(m["credit"])
                para.text = text[: m.start()].rstrip()
            para.text = _BULLET.sub("", para.text)
            items.append(item)
    return items


def _is_subtitle(text: str) -> bool:
    return bool(_SUBTITLE.match(text)) and len(text) <= 60 and not text.endswith("。")


# --- headlines ----------------------------------------------------------------------------


def _headline(article: Article, lines: list[str]) -> None:
    """Kicker, title and subtitle from a stack of headline lines."""
    lines = list(lines)
    if len(lines) >= 2 and lines[0].endswith(":"):
        article.kicker = lines.pop(0).removesuffix(":")
    elif len(lines) >= 3 and len(lines[0]) <= KICKER_LABEL_CHARS:
        article.kicker = lines.pop(0)
    subtitles = [_SUBTITLE.sub("", line) for line in lines if _SUBTITLE.match(line)]
    plain = [line for line in lines if not _SUBTITLE.match(line)]
    if plain:
        article.title = plain[0]
    article.subtitle = " ".join(plain[1:] + subtitles) or None


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _headline_text(article: Article) -> str:
    return " ".join(filter(None, (article.kicker, article.title, article.subtitle)))


def _split_for_late_headline(previous: Article, late: Article) -> None:
    """Move the tail of `previous`'s paragraphs to `late`, whose headline follows its body."""
    body = previous.paragraphs
    if len(body) < 2:
        return
    prev_grams, late_grams = _bigrams(_headline_text(previous)), _bigrams(_headline_text(late))

    def match(para: Paragraph, grams: set[str]) -> float:
        return len(_bigrams(para.text) & grams) / max(len(grams), 1)

    gain = [match(p, late_grams) - match(p, prev_grams) for p in body]
    # Split point k (previous keeps body[:k], at least its first paragraph) maximising how
    # much better the moved paragraphs match the late headline than the earlier one.
    moved = list(itertools.accumulate(reversed(gain)))[::-1]  # moved[k] = sum(gain[k:])
    best = max(range(1, len(body)), key=lambda k: (moved[k], -k))
    if moved[best] <= 0:
        return
    late.paragraphs = body[best:]
    previous.paragraphs = body[:best]


# --- articles -----------------------------------------------------------------------------


class _Builder:
    def __init__(self, meta: PageMeta) -> None:
        self.meta = meta
        self.articles: list[Article] = []
        self.current: Article | None = None
        self.credits: dict[int, Credit] = {}  # id(paragraph) -> writer credit closing it

    def new(self, kind: str = "news", lines: list[str] | None = None) -> Article:
        article = Article(seq=len(self.articles), kind=kind, title=None, paragraphs=[])
        if lines:
            _headline(article, lines)
        self.articles.append(article)
        return article

    def body(self, item: _Item) -> None:
        if self.current is None or (
            self.current.paragraphs and id(self.current.paragraphs[-1]) in self.credits
        ):
            # Nothing open, or the open article was closed by its writer's credit.
            self.current = self.new()
        if item.para.text:
            self.current.paragraphs.append(item.para)
        if item.byline is not None:
            self.credits[id(item.para)] = item.byline

    def byline(self, item: _Item) -> None:
        if self.current is None or self.current.byline is not None:
            self.current = self.new()
        assert item.byline is not None
        self.current.byline = item.byline.text
        self.current.reporters, self.current.correspondents = (
            item.byline.reporters,
            item.byline.correspondents,
        )
        if item.para.text:
            self.body(_Item("body", item.para))

    def photo(self, caption: _Item, credit: _Item | None, lines: list[str] | None) -> None:
        article = self.new("photo", lines)
        if caption.para.text:
            article.paragraphs.append(caption.para)
        names, printed = caption.photographers, caption.credit_text
        if credit is not None:
            assert credit.credit_text is not None
            m = PHOTO_CREDIT_END.search(credit.credit_text)
            names = parse_credit(m["names"]).everyone if m else []
            printed = credit.credit_text
        article.photographers, article.byline = names, printed

    def finish(self) -> list[Article]:
        for article in self.articles:
            closing = self.credits.get(id(article.paragraphs[-1])) if article.paragraphs else None
            if closing is not None and article.byline is None:
                article.byline, article.reporters = closing.text, closing.reporters
                article.correspondents = closing.correspondents
            article.event_date = event_date("".join(p.text for p in article.paragraphs), self.meta)
            if article.kind == "news" and not article.paragraphs and article.byline is None:
                article.kind = "section"
        for seq, article in enumerate(self.articles):
            article.seq = seq
        return self.articles


def segment_page(paragraphs: list[Paragraph], meta: PageMeta) -> list[Article]:
    """Articles of the page, in the order they start."""
    items = _classify(paragraphs)
    marked = any(p.heading for p in paragraphs)
    build = _Builder(meta)
    i = 0
    while i < len(items):
        item = items[i]
        if item.role == "title":
            end = i
            while end < len(items) and items[end].role == "title":
                end += 1
            stack = [it.para.text for it in items[i:end]]
            if marked:  # a heading followed by a heading is a section name
                for name in stack[:-1]:
                    build.new("section", [name])
                stack = stack[-1:]
            i = end
            if i < len(items) and items[i].role == "caption":
                j = i + 1 + (i + 1 < len(items) and items[i + 1].role == "credit")
                if j == len(items) or items[j].role == "title":
                    credit = items[i + 1] if j == i + 2 else None
                    build.photo(items[i], credit, stack)
                    build.current = None
                    i = j
                    continue
            previous = build.current
            build.current = build.new("news", stack)
            if i == len(items) and previous is not None:
                _split_for_late_headline(previous, build.current)
            continue
        if item.role == "caption":
            credit = items[i + 1] if i + 1 < len(items) and items[i + 1].role == "credit" else None
            build.photo(item, credit, None)
            i += 2 if credit else 1
            continue
        if item.role == "credit":  # a credit with no caption before it: a photo without text
            build.photo(_Item("caption", Paragraph(text="", text_raw=item.para.text_raw)), item, None)
        elif item.role == "byline":
            build.byline(item)
        else:
            build.body(item)
        i += 1
    return build.finish()
