"""How many SMS segments a text takes (3GPP TS 23.038).

GSM-7 carries 160 characters in one segment and 153 in each part of a concatenated message; a character
of the extension table (``{ } [ ] ~ \\ | ^ €`` and the form feed) costs two.  A text with any character
outside GSM-7 (Cyrillic, for one) goes as UCS-2: 70 in one segment, 67 per part (a character outside the
Basic Multilingual Plane, an emoji, takes two UTF-16 units).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

Encoding = Literal["gsm7", "ucs2"]


@dataclass(frozen=True, slots=True)
class SegmentCount:
    encoding: Encoding
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    per_segment: int  # capacity of each segment at this length


def count_segments(text: str) -> SegmentCount:
    if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENSION for ch in text):
        units = sum(2 if ch in _GSM7_EXTENSION else 1 for ch in text)
        single, part, encoding = 160, 153, "gsm7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "ucs2"
    if units <= single:
        return SegmentCount(encoding, units, 1 if units else 0, single)
    return SegmentCount(encoding, units, -(-units // part), part)
