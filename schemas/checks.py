"""Character classes the data contract forbids in clean text."""

from __future__ import annotations

from flows.steps.clean import PINYIN_READING, traditional_only_chars

# Control characters (tab and newline are not allowed either: a paragraph is one line)
# and the Unicode private-use area, where lost glyphs end up.
CONTROL_OR_PRIVATE = r"[\x00-\x1f\x7f\ue000-\uf8ff]"
# Polars' regex engine has no look-behind: match the Han character with its reading.
PINYIN_ANNOTATION = r"[\u3400-\u9fff]" + PINYIN_READING


def traditional_class() -> str:
    """A regex character class of the Traditional-only characters."""
    return "[" + "".join(sorted(traditional_only_chars())) + "]"
