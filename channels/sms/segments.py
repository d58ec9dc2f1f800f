"""Splitting a text into SMS parts: GSM-7 when every character has a GSM 03.38 code, else UCS-2;
concatenated parts carry a UDH with an 8-bit reference (``05 00 03 ref total seq``).

smpplib's ``gsm.make_parts`` is not used for the split: it cuts GSM escape pairs (``€``, ``[``) and
UTF-16 surrogate pairs (emoji) in two at part boundaries, draws a random reference, and its GSM table
encodes the backtick as 0x5F, which phones show as ``§``.  Its ``gsm_encode`` is used for the
characters it does map correctly.
"""

from __future__ import annotations

from dataclasses import dataclass

from smpplib.gsm import gsm_encode

from channels.base import ChannelError

DATA_CODING_DEFAULT = 0x00
DATA_CODING_UCS2 = 0x08
ESM_CLASS_UDHI = 0x40
GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67
MAX_PARTS = 255
_NOT_GSM = frozenset("`")


@dataclass(frozen=True, slots=True)
class Segmented:
    """What goes into ``short_message`` of each ``submit_sm`` of one text."""

    data_coding: int
    esm_class: int
    parts: tuple[bytes, ...]

    @property
    def count(self) -> int:
        return len(self.parts)


def gsm_units(text: str) -> list[bytes] | None:
    """Each character's GSM 03.38 septets (one byte each, two for the escape table), or ``None``
    when some character has none."""
    if any(ch in _NOT_GSM for ch in text):
        return None
    try:
        return [gsm_encode(ch) for ch in text]
    except UnicodeError:
        return None


def ucs2_units(text: str) -> list[bytes]:
    """Each character's UTF-16BE code units; a character outside the BMP stays one 4-byte unit."""
    return [ch.encode("utf-16-be") for ch in text]


def _pack(units: list[bytes], limit: int) -> list[bytes]:
    parts: list[bytes] = []
    current = b""
    for unit in units:
        if len(current) + len(unit) > limit:
            parts.append(current)
            current = b""
        current += unit
    if current or not parts:
        parts.append(current)
    return parts


def segment(text: str, reference: int) -> Segmented:
    """The parts of ``text``; ``reference`` (0..255) is the concatenation reference for a long one."""
    if not text:
        raise ChannelError("sms: the text is empty")
    gsm = gsm_units(text)
    if gsm is not None:
        coding, units, single, part = DATA_CODING_DEFAULT, gsm, GSM_SINGLE, GSM_PART
    else:
        coding, units, single, part = DATA_CODING_UCS2, ucs2_units(text), UCS2_SINGLE * 2, UCS2_PART * 2
    if sum(len(u) for u in units) <= single:
        return Segmented(coding, 0, (b"".join(units),))
    bodies = _pack(units, part)
    if len(bodies) > MAX_PARTS:
        raise ChannelError(f"sms: the text needs {len(bodies)} parts; at most {MAX_PARTS} can be joined")
    header = bytes((5, 0, 3, reference & 0xFF, len(bodies)))
    return Segmented(coding, ESM_CLASS_UDHI,
                     tuple(header + bytes((n,)) + body for n, body in enumerate(bodies, start=1)))


def split_udh(short_message: bytes, esm_class: int) -> tuple[tuple[int, int, int] | None, bytes]:
    """``((reference, total, seq) or None, user data)`` of a received ``short_message``; 8- and 16-bit
    concatenation references are both read."""
    if not esm_class & ESM_CLASS_UDHI or not short_message:
        return None, short_message
    length = short_message[0]
    header, body = short_message[1:1 + length], short_message[1 + length:]
    concat = None
    i = 0
    while i + 1 < len(header):
        iei, size = header[i], header[i + 1]
        value = header[i + 2:i + 2 + size]
        if iei == 0x00 and size == 3:
            concat = (value[0], value[1], value[2])
        elif iei == 0x08 and size == 4:
            concat = ((value[0] << 8) | value[1], value[2], value[3])
        i += 2 + size
    return concat, body


_GSM_BASIC: dict[int, str] = {}
_GSM_EXTENDED: dict[int, str] = {}


def _gsm_tables() -> tuple[dict[int, str], dict[int, str]]:
    if not _GSM_BASIC:
        from smpplib.gsm import GSM_CHARACTER_TABLE

        for index, ch in enumerate(GSM_CHARACTER_TABLE):
            if ch == "`" or ch == "\x1b":
                continue
            (_GSM_BASIC if index < 0x80 else _GSM_EXTENDED)[index & 0x7F] = ch
        _GSM_BASIC[0x5F] = "§"
    return _GSM_BASIC, _GSM_EXTENDED


def decode_text(data: bytes, data_coding: int) -> str:
    """A received text: UCS-2 (0x08), Latin-1 (0x03) or unpacked GSM-7 (0x00, the SMSC default)."""
    if data_coding == DATA_CODING_UCS2:
        return data.decode("utf-16-be", errors="replace")
    if data_coding == 0x03:
        return data.decode("latin-1")
    basic, extended = _gsm_tables()
    out: list[str] = []
    escape = False
    for byte in data:
        if escape:
            out.append(extended.get(byte, " "))
            escape = False
        elif byte == 0x1B:
            escape = True
        else:
            out.append(basic.get(byte, "?"))
    return "".join(out)
