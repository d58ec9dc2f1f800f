"""What the sandbox SMSC has received: every accepted part, reassembled into whole messages per
recipient, with the parts it was given twice counted (a client that resubmits an acknowledged part
doubles a message on a real phone)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from smpplib.gsm import GSM_CHARACTER_TABLE

_GSM = {i: ch for i, ch in enumerate(GSM_CHARACTER_TABLE[:128])} | {0x5F: "§"}
_GSM_ESCAPED = {i - 128: ch for i, ch in enumerate(GSM_CHARACTER_TABLE) if i >= 128 and ch != "`"}


def split_udh(data: bytes, esm_class: int) -> tuple[tuple[int, int, int] | None, bytes]:
    """(8-bit concatenation (reference, total, seq) or None, user data), as a handset reads them."""
    if not esm_class & 0x40 or not data:
        return None, data
    header, body = data[1:1 + data[0]], data[1 + data[0]:]
    if len(header) >= 5 and header[0] == 0x00 and header[1] == 3:
        return (header[2], header[3], header[4]), body
    return None, body


def decode_text(data: bytes, data_coding: int) -> str:
    if data_coding == 0x08:
        return data.decode("utf-16-be")
    out, escaped = [], False
    for byte in data:
        if escaped:
            out.append(_GSM_ESCAPED.get(byte, "?"))
            escaped = False
        elif byte == 0x1B:
            escaped = True
        else:
            out.append(_GSM.get(byte, "?"))
    return "".join(out)


@dataclass(frozen=True, slots=True)
class AcceptedPart:
    message_id: str
    source: str
    destination: str
    source_ton: int
    data_coding: int
    esm_class: int
    short_message: bytes


@dataclass(frozen=True, slots=True)
class WholeMessage:
    """A message as the phone would show it."""

    source: str
    destination: str
    text: str
    segments: int
    message_ids: tuple[str, ...]


@dataclass(slots=True)
class Mailbox:
    """Accepted parts and the whole messages they make."""

    parts: list[AcceptedPart] = field(default_factory=list)
    messages: dict[str, list[WholeMessage]] = field(default_factory=dict)
    doubled_parts: int = 0
    _open: dict[tuple[str, str, int, int], dict[int, AcceptedPart]] = field(default_factory=dict)

    def accept(self, part: AcceptedPart) -> None:
        self.parts.append(part)
        concat, body = split_udh(part.short_message, part.esm_class)
        if concat is None:
            self._whole(part, [part], decode_text(body, part.data_coding))
            return
        reference, total, seq = concat
        key = (part.source, part.destination, reference, total)
        collected = self._open.setdefault(key, {})
        if seq in collected:
            self.doubled_parts += 1
            return
        collected[seq] = part
        if len(collected) == total:
            del self._open[key]
            ordered = [collected[n] for n in sorted(collected)]
            text = "".join(decode_text(split_udh(p.short_message, p.esm_class)[1], p.data_coding) for p in ordered)
            self._whole(part, ordered, text)

    def _whole(self, part: AcceptedPart, parts: list[AcceptedPart], text: str) -> None:
        self.messages.setdefault(part.destination, []).append(WholeMessage(
            source=part.source, destination=part.destination, text=text, segments=len(parts),
            message_ids=tuple(p.message_id for p in parts)))

    def to(self, destination: str) -> list[WholeMessage]:
        return list(self.messages.get(destination.lstrip("+"), []))

    @property
    def whole_messages(self) -> int:
        return sum(len(v) for v in self.messages.values())

    @property
    def incomplete(self) -> int:
        return len(self._open)

    def doubled_messages(self) -> int:
        """Whole messages received more than once (same recipient and text)."""
        counts = Counter((m.destination, m.text) for box in self.messages.values() for m in box)
        return sum(n - 1 for n in counts.values() if n > 1)
