"""Bytes and headers to text, for the charsets mail from Ukraine actually arrives in.

Declared charsets are honoured (UTF-8, Windows-1251, KOI8-U, ...).  When the declaration is missing,
unknown to Python, or wrong (the bytes do not decode), the text is guessed: UTF-8 if the bytes are valid
UTF-8, else whichever of Windows-1251 and KOI8-U yields more lower-case Cyrillic letters (running text
is mostly lower case, and the two tables swap the cases of Cyrillic letters).  Nothing raises: each
decode reports the problem it met, so the caller can mark the message as malformed and keep the raw
bytes.
"""

from __future__ import annotations

import codecs
from email.header import Header, decode_header
from email.utils import parseaddr

_ALIASES = {
    "win-1251": "cp1251",
    "x-cp1251": "cp1251",
    "windows-1251x": "cp1251",
    "koi8u": "koi8_u",
    "koi8-ru": "koi8_u",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
}
_UNKNOWN = {"unknown-8bit", "x-unknown", "unknown", "x-user-defined", "8bit", "default", "none"}
# Python-only codecs a message must never pick: they execute escapes or are not character sets.
_REFUSED = {"unicode_escape", "raw_unicode_escape", "idna", "punycode", "undefined", "mbcs", "oem"}
_CYRILLIC_LOWER = set("абвгґдеєжзиіїйклмнопрстуфхцчшщьюяъыэё")


def codec_for(charset: str | None) -> str | None:
    """The Python codec for a declared MIME charset, or None if unknown or unusable."""
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    if name in _UNKNOWN:
        return None
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name.replace("-", "_") in _REFUSED:
        return None
    return info.name


def guess_text(data: bytes) -> str:
    """Decode bytes of unknown charset: UTF-8, else the better of Windows-1251 and KOI8-U."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best, best_score = "", -1
    for codec in ("cp1251", "koi8_u"):
        text = data.decode(codec, errors="replace")
        score = sum(1 for ch in text if ch in _CYRILLIC_LOWER)
        if score > best_score:
            best, best_score = text, score
    return best


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """``(text, problem)``: the text of ``data`` in ``charset``; ``problem`` says what went wrong."""
    codec = codec_for(charset)
    if codec is not None:
        try:
            return data.decode(codec), None
        except UnicodeDecodeError:
            return guess_text(data), f"text is not valid {charset}"
    if charset and charset.strip().lower() not in _UNKNOWN:
        return guess_text(data), f"unknown charset {charset!r}"
    return guess_text(data), None


def _raw_bytes(value: str) -> bytes:
    """The bytes behind a parsed header string: raw 8-bit bytes sit in it as surrogate escapes."""
    return value.encode("utf-8", errors="surrogateescape")


def decode_header_value(value: str | Header | None) -> tuple[str, str | None]:
    """``(text, problem)`` of a header: RFC 2047 encoded words and raw 8-bit bytes both decoded."""
    if value is None:
        return "", None
    try:
        parts = decode_header(value)
    except Exception as exc:  # noqa: BLE001 - a broken encoded word must not lose the header
        return guess_text(_raw_bytes(str(value))), f"undecodable header: {exc}"
    pieces: list[str] = []
    problems: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            pieces.append(chunk if chunk.isascii() else guess_text(_raw_bytes(chunk)))
            continue
        text, problem = decode_bytes(chunk, charset)
        pieces.append(text)
        if problem:
            problems.append(problem)
    text = "".join(pieces)
    return " ".join(text.split()) if "\n" in text or "\r" in text else text, "; ".join(problems) or None


def decode_address(value: str | Header | None) -> tuple[str, str, str | None]:
    """``(address, display_name, problem)`` of an address header such as ``From``.

    A plain ASCII header is split first and its display name decoded after, so an encoded name with a
    comma in it stays whole; a header with raw 8-bit bytes is decoded first.
    """
    if value is None:
        return "", "", "no From header"
    if isinstance(value, str) and value.isascii():
        name, address = parseaddr(value)
        display, problem = decode_header_value(name)
    else:
        decoded, problem = decode_header_value(value)
        display, address = parseaddr(decoded)
    address = address.strip().lower()
    if "@" not in address:
        return address, display.strip(), problem or f"no usable address in From: {str(value)[:200]!r}"
    return address, display.strip(), problem
