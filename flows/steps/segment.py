"""Segment: split a page's paragraphs into articles with titles, bylines, people and dates."""

from __future__ import annotations

import datetime as dt
import re

from flows.steps.model import Article, PageMeta, Paragraph
from flows.steps.repair import SENTENCE_END

MAX_TITLE_CHARS = 40

_BYLINE = re.compile(r"^(?:本报讯)?\s*[((](?P<inner>[^()()]{2,80})[))]\s*")
_PHOTO_CREDIT = re.compile(r"(?P<credit>(?:通讯员|记者)[\s\u4e00-\u9fff]{2,30}?)\s*摄$")
_ROLE = re.compile(r"(通讯员|(?:牡丹晚报全媒体)?记者)")
_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}")
_MONTH_DAY = re.compile(r"(\d{1,2})月(\d{1,2})日")


def is_title(paragraph: Paragraph) -> bool:
    return paragraph.heading or (
        len(paragraph.text) <= MAX_TITLE_CHARS and not SENTENCE_END.search(paragraph.text)
    )


def split_people(credit: str) -> dict[str, list[str]]:
    """'通讯员 郭玉华 蒋硕 牡丹晚报全媒体记者 郭卫东' -> correspondents / reporters."""
    people: dict[str, list[str]] = {"reporters": [], "correspondents": []}
    role = "reporters"
    for token in _ROLE.split(credit):
        token = token.strip()
        if not token:
            continue
        if token == "通讯员":
            role = "correspondents"
        elif token.endswith("记者"):
            role = "reporters"
        else:
            people[role].extend(_NAME.findall(token))
    return people


def event_date(text: str, meta: PageMeta) -> dt.date | None:
    """The first 'M月D日' in the text, with the year only when the page states it."""
    m = _MONTH_DAY.search(text)
    if not m or meta.published_at is None:
        return None
    try:
        return dt.date(meta.published_at.year, int(m[1]), int(m[2]))
    except ValueError:
        return None


def _finish(article: Article, meta: PageMeta) -> Article:
    body = article.paragraphs
    if body:
        m = _BYLINE.match(body[0].text)
        if m:
            article.byline = m["inner"].strip()
            people = split_people(article.byline)
            article.reporters, article.correspondents = people["reporters"], people["correspondents"]
            rest = body[0].text[m.end() :].strip()
            if rest:
                body[0].text = rest
            else:
                body.pop(0)
        if body and (credit := _PHOTO_CREDIT.search(body[-1].text)):
            article.kind = "photo"
            article.photographers = split_people(credit["credit"].replace("记者", "通讯员"))["correspondents"]
            caption = body[-1].text[: credit.start()].strip()
            if caption:
                body[-1].text = caption
            else:
                body.pop()
    if not body:
        article.kind = "section" if article.kind != "photo" else "photo"
    article.event_date = event_date("".join(p.text for p in body), meta)
    return article


def segment_page(paragraphs: list[Paragraph], meta: PageMeta) -> list[Article]:
    """Titles start articles; everything until the next title is that article's body."""
    articles: list[Article] = []
    current: Article | None = None
    for para in paragraphs:
        if is_title(para):
            if current is None or current.paragraphs:
                if current is not None:
                    articles.append(_finish(current, meta))
                current = Article(seq=len(articles), kind="news", title=para.text, paragraphs=[])
            else:  # a second title line before any body: the subtitle
                current.subtitle = para.text
            continue
        if current is None:
            current = Article(seq=len(articles), kind="news", title=None, paragraphs=[])
        current.paragraphs.append(para)
    if current is not None:
        articles.append(_finish(current, meta))
    for seq, article in enumerate(articles):
        article.seq = seq
    return articles
