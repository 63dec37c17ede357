"""Decode: bytes -> str, with the encoding detected from the bytes."""

from __future__ import annotations

import codecs
from dataclasses import dataclass


class DecodeError(ValueError):
    """The bytes are not text we can read; the message is shown to users as the reason."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str


_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_bytes(data: bytes) -> Decoded:
    """Decode a page. UTF-8 (with or without BOM) and UTF-16 with BOM."""
    if not data:
        raise DecodeError("empty file (0 bytes)")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(encoding), encoding)
            except UnicodeDecodeError as exc:
                raise DecodeError(f"{encoding} byte-order mark but invalid data at byte {exc.start}") from exc
    if b"\x00" in data:
        raise DecodeError("binary data (NUL bytes), not a text file")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"not valid UTF-8 (byte {exc.start}: {exc.reason})") from exc
