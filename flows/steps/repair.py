"""Repair: rejoin paragraphs that a page or column break cut in two, and split bylines.

The input is one block per kept line. Two neighbouring blocks are one paragraph when
the first stops where no paragraph stops and the second carries on its sentence. The
rules, in the order they are tried (first that applies decides):

never join
  - a Markdown heading, or a line that opens an article or a credit (`本报讯`, `□`, `■`,
    `——…`, `(记者…)`, a photo credit `通讯员 X Y 摄`);
  - after a line ending a sentence (`。!?…`, closing quotes after them), or a credit
    (`…摄`, `… 记者 张品`), or a `□ 本报记者 …` byline line;
always join (the head cannot be a finished paragraph or a title)
  - the tail starts with what no paragraph starts with: `,、。;:)”…`, `的`, `们`, or one
    character then a comma (`记、东头…` after `…副书`); or the break cut `本报讯(`;
  - the head is one character, or a byline with text after it (`本报讯(…)近年来,吴店`);
  - the head ends with `,` or `、`, has an unclosed `“ ( 《 「`, holds a full stop inside,
    is longer than a title can be (MAX_TITLE_CHARS), has two or more clause marks, or ends
    with a function character no headline ends with (`…的压力感和`);
otherwise the head reads like a headline, and it is one when
  - it is the first line of the page, or ends in `:` (a kicker);
  - it follows another headline line (a headline stack), unless the tail runs on into a
    photo credit (a caption cut early, under its photo's title);
  - or the tail is headline-like too (and not carried on by the block after it), or is a
    photo caption (a credit closes it);
  - on a page whose headings are marked (`##`), an unmarked line is never a headline.

Bylines split over lines (page 001: `本报讯(通讯员 郭玉华)` / `蒋硕宋杰 牡丹晚报全媒` /
`媒体记者 郭卫东)“大娘您好…`) are rebuilt first: after a byline-only line, lines of names
and role words continue it, and a line `role/names)` closes it, its rest being the body. The
pieces are joined with a space and the early `)` dropped; segment parses the people. A line
after an unfinished byline that does not read as names (`记者、东头农作物…`, where the page
lost text) is body text: the byline is closed without it.
"""

from __future__ import annotations

import re

from flows.steps.model import Block, Paragraph

MAX_TITLE_CHARS = 40

CJK = "\u4e00-\u9fff"
# Names in a credit: "郭玉华", "鄢玉华 顾文雅", "贺莹莹 彭 辉".
NAMES = rf"[{CJK}]{{2,4}}(?:\s+[{CJK}]{{1,4}})*"
# Where a paragraph may end: a sentence end, possibly inside closing quotes/brackets.
SENTENCE_END = re.compile(r"[。!?…][”’」』)\]]*$")
# Credits end an article or a caption: "通讯员 鄢玉华 杨云 摄", "记者 付凤臣摄", "…。 记者 张品".
PHOTO_CREDIT_END = re.compile(rf"(?:通讯员|本报记者|记者|摄影)\s*(?P<names>{NAMES})\s*摄$")
WRITER_CREDIT_END = re.compile(rf"(?<=[。!?…”])\s*(?P<credit>(?:本报)?记者\s*{NAMES})$")
STANDALONE_PHOTO_CREDIT = re.compile(rf"^(?:通讯员|本报记者|记者|摄影)\s*{NAMES}\s*摄$")
# Lines that open an article, a byline or a note.
STARTS_ARTICLE = re.compile(r"^(?:本报讯|本报记者|[□■]|——|编者按|\((?:本报)?记者|\(通讯员|新华社)")
# A byline on a line of its own: "本报讯(通讯员 郭玉华)" (the bracket may be unclosed),
# or "□ 本报记者 贺莹莹 李广寅".
BYLINE_ONLY = re.compile(
    rf"^(?:本报讯\s*\([^()]*\)?|\((?:本报)?(?:记者|通讯员)[^()]*\)?|[□■]?\s*本报记者\s+{NAMES})$"
)
_BYLINE_THEN_TEXT = re.compile(r"^(?:本报讯\s*)?\((?:本报)?(?:记者|通讯员)?[^()]*\)\s*\S")
_OPEN_BYLINE = re.compile(r"^(?:本报讯\s*)?\([^()]*\)?$")
# A byline continuation: names and role words ("蒋硕宋杰 牡丹晚报全媒") ...
_NAMES_LINE = re.compile(rf"^[{CJK}]{{1,12}}(?:\s+[{CJK}]{{1,12}}){{0,7}}$")
ROLE_WORD = re.compile(r"记者|通讯员|摄影|实习生|报|全媒|媒体|电视台|新闻网|融媒")
# ... or its closing line: "媒体记者 郭卫东)“大娘您好…".
_CLOSING_LINE = re.compile(rf"^(?P<credit>[{CJK}][{CJK}\s]{{0,40}}?)\)(?P<rest>.*)$")

_NON_INITIAL = re.compile(rf"^(?:[,、。;:!?)\]」』”’》…%]|的(?!确)|们|[{CJK}][,、;:])")
_FUNCTION_END = re.compile(
    r"[的地得了着和与及或而并把被将对从在向于以之等其该这那个也都就还又再很更最已所让使]$"
)
_CLAUSE_MARK = re.compile(r"[,;、]")
_INNER_STOP = re.compile(r"[。!?]")
_PAIRS = (("“", "”"), ("(", ")"), ("《", "》"), ("「", "」"), ("‘", "’"))


def ends_paragraph(text: str) -> bool:
    """The text may end a paragraph here: a sentence end or a credit."""
    return bool(SENTENCE_END.search(text) or PHOTO_CREDIT_END.search(text) or WRITER_CREDIT_END.search(text))


def unbalanced(text: str) -> bool:
    return any(text.count(open_) > text.count(close) for open_, close in _PAIRS)


def body_like(text: str) -> bool:
    """Unfinished text that cannot be a headline: it must go on in the next block."""
    return (
        text.endswith((",", "、"))
        or unbalanced(text)
        or bool(_INNER_STOP.search(text[:-1]))
        or len(text) > MAX_TITLE_CHARS
        or len(_CLAUSE_MARK.findall(text)) >= 2
        or bool(_FUNCTION_END.search(text))
    )


def title_like(text: str) -> bool:
    """Short, unfinished, and nothing in it says body text: it reads as a headline."""
    return not (
        ends_paragraph(text)
        or body_like(text)
        or STARTS_ARTICLE.match(text)
        or STANDALONE_PHOTO_CREDIT.match(text)
    )


class _Joiner:
    """Decides joins left to right; looks ahead at raw blocks only (never at its own output)."""

    def __init__(self, blocks: list[Block]) -> None:
        self.blocks = blocks
        self.marked_headings = any(b.heading for b in blocks)

    def is_caption(self, i: int) -> bool:
        """Block i starts a photo caption: a credit ends it or stands right after it."""
        for j in range(i, min(i + 4, len(self.blocks))):
            text = self.blocks[j].text
            if PHOTO_CREDIT_END.search(text):
                return True
            if ends_paragraph(text) or (j > i and not _NON_INITIAL.match(text) and title_like(text)):
                return j + 1 < len(self.blocks) and bool(
                    STANDALONE_PHOTO_CREDIT.match(self.blocks[j + 1].text)
                )
        return False

    def should_join(self, head: Paragraph, previous: Paragraph | None, i: int) -> bool:
        """Does block i carry on the paragraph `head` (whose predecessor is `previous`)?"""
        tail = self.blocks[i]
        text = head.text
        if head.heading or tail.heading:
            return False
        if STARTS_ARTICLE.match(tail.text) or STANDALONE_PHOTO_CREDIT.match(tail.text):
            return False
        if BYLINE_ONLY.match(text):
            # A byline line, then the body's first line: one paragraph, as printed.
            return _OPEN_BYLINE.match(text) is not None and not title_like(tail.text)
        if ends_paragraph(text):
            return False
        if _NON_INITIAL.match(tail.text) or (text[-1].isdigit() and tail.text[0].isdigit()):
            return True
        if _splits_byline_mark(text, tail.text):
            return True
        if len(text) == 1 or _BYLINE_THEN_TEXT.match(text):
            return True  # no headline is one character, or follows a byline on its line
        if body_like(text) and not text.endswith(":"):
            return True
        if text.endswith(":") and (len(text) > MAX_TITLE_CHARS or len(_CLAUSE_MARK.findall(text)) >= 1):
            return True
        # The head reads like a headline.
        if self.marked_headings:
            return not self.is_caption(i)
        if previous is None or text.endswith(":"):
            return False
        if title_like(previous.text):
            # Second line after a headline: another headline line, unless the tail runs on
            # into a photo credit (a caption cut early, under its photo's title).
            return self.is_caption(i)
        return not (self.is_headline(i) or self.is_caption(i))

    def is_headline(self, i: int) -> bool:
        """Block i reads as a headline, and the block after it does not carry it on."""
        text = self.blocks[i].text
        if not title_like(text):
            return False
        after = self.blocks[i + 1].text if i + 1 < len(self.blocks) else ""
        return not _NON_INITIAL.match(after)


def _splits_byline_mark(head: str, tail: str) -> bool:
    """A break inside "本报讯(": "本" / "报讯(…", "本报讯" / "(…"."""
    mark = "本报讯("
    return any(head.endswith(mark[:k]) and tail.startswith(mark[k:]) for k in range(1, len(mark)))


def _continues_byline(head: Paragraph, tail: Block) -> bool:
    """`tail` is the next line of a byline split over lines."""
    if not _OPEN_BYLINE.match(head.text):
        return False
    if m := _CLOSING_LINE.match(tail.text):
        return _is_credit(m["credit"])
    return _NAMES_LINE.match(tail.text) is not None and _is_credit(tail.text)


def _is_credit(text: str) -> bool:
    """Only names and role words (two names may run together: "蒋硕宋杰")."""
    return all(len(token) <= 2 * 4 or ROLE_WORD.search(token) for token in text.split())


def _append(para: Paragraph, block: Block, separator: str = "") -> None:
    para.breaks.append(len(para.text) + len(separator))
    para.text += separator + block.text
    para.text_raw = "\n".join([para.text_raw, *block.gap, block.raw])
    para.flags = sorted(set(para.flags) | set(block.flags))
    para.joined_from += 1


def repair_blocks(blocks: list[Block]) -> list[Paragraph]:
    """Join broken blocks into whole paragraphs; `text_raw` keeps the lines and blank lines between."""
    joiner = _Joiner(blocks)
    paragraphs: list[Paragraph] = []
    for i, block in enumerate(blocks):
        head = paragraphs[-1] if paragraphs else None
        if head is not None and _continues_byline(head, block):
            head.text = head.text.removesuffix(")")
            _append(head, block, " ")
            if not _CLOSING_LINE.match(block.text):
                head.text += ")"  # closed again until a closing line comes
            continue
        previous = paragraphs[-2] if len(paragraphs) > 1 else None
        if head is not None and joiner.should_join(head, previous, i):
            if _OPEN_BYLINE.match(head.text) and not head.text.endswith(")"):
                head.text += ")"  # the byline ends where the body begins
            _append(head, block)
            continue
        paragraphs.append(
            Paragraph(text=block.text, text_raw=block.raw, flags=list(block.flags), heading=block.heading)
        )
    return paragraphs
