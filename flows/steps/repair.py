"""Repair: rejoin paragraphs that a page or column break cut in two."""

from __future__ import annotations

import re

from flows.steps.model import Block, Paragraph

SENTENCE_END = re.compile(r"[。！？!?…；;”」』》)）]$|摄$")
# A block that opens an article or a credit is never the tail of the previous paragraph.
_STARTS_SOMETHING = re.compile(r"^(?:本报讯|本报记者|□|■|——|通讯员|记者\s)")
# Body text is long; titles and captions that happen to lack punctuation are short.
MIN_BROKEN_HEAD_CHARS = 40


def should_join(head: Block, tail: Block) -> bool:
    """Does `tail` continue the sentence that `head` left unfinished?"""
    if head.heading or tail.heading:
        return False
    if len(head.text) < MIN_BROKEN_HEAD_CHARS or SENTENCE_END.search(head.text):
        return False
    return not _STARTS_SOMETHING.match(tail.text)


def repair_blocks(blocks: list[Block]) -> list[Paragraph]:
    """Join broken blocks into whole paragraphs; `text_raw` keeps the break as a blank line."""
    paragraphs: list[Paragraph] = []
    previous: Block | None = None
    for block in blocks:
        if previous is not None and paragraphs and should_join(previous, block):
            para = paragraphs[-1]
            para.text += block.text
            para.text_raw += "\n\n" + block.raw
            para.flags = sorted(set(para.flags) | set(block.flags))
            para.joined_from += 1
        else:
            paragraphs.append(
                Paragraph(text=block.text, text_raw=block.raw, flags=list(block.flags), heading=block.heading)
            )
        # Judge the next join on the text so far, so a paragraph broken twice joins twice.
        previous = Block(paragraphs[-1].text, paragraphs[-1].text_raw, heading=paragraphs[-1].heading)
    return paragraphs
