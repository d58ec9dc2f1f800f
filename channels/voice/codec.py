"""AMI framing: bytes from the socket to messages, actions to bytes.

The Asterisk Manager Interface sends one greeting line (``Asterisk Call Manager/5.0.1``) and then
messages made of ``Key: Value`` lines ending in CRLF, each message closed by an empty line.  The
decoder is incremental (feed it whatever the socket returned: half a message, ten messages) and never
raises on bad input: a block without ``Event``/``Response``, a frame larger than ``max_frame`` or
undecodable bytes come out as :class:`AmiFrameError` carrying the raw bytes, and decoding carries on
at the next message boundary.

This replaces pyst2's reading path (``asterisk.manager.Manager._receive_data``/``ManagerMsg``); see
:mod:`channels.voice.connection` for why.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

SEPARATOR = b"\r\n\r\n"
DEFAULT_MAX_FRAME = 256 * 1024
_RAW_KEPT = 4096


class AmiMessage:
    """One AMI event or response.  Header names are lower-cased (Asterisk spells them differently
    across versions: ``Uniqueid``/``UniqueID``); repeated headers (``ChanVariable``, ``Variable``)
    keep every value in :attr:`repeated`."""

    __slots__ = ("headers", "repeated", "raw", "unparsed")

    def __init__(
        self,
        headers: dict[str, str],
        raw: bytes = b"",
        repeated: dict[str, list[str]] | None = None,
        unparsed: tuple[str, ...] = (),
    ) -> None:
        self.headers = headers
        self.raw = raw
        self.repeated = repeated
        self.unparsed = unparsed

    @property
    def is_event(self) -> bool:
        return "event" in self.headers

    @property
    def name(self) -> str:
        """The event name, or the response status (``Success``, ``Error``, ``Goodbye``...)."""
        headers = self.headers
        return headers.get("event") or headers.get("response", "")

    @property
    def action_id(self) -> str | None:
        return self.headers.get("actionid")

    def get(self, key: str, default: str = "") -> str:
        return self.headers.get(key, default)

    def values(self, key: str) -> list[str]:
        """Every value of a header that may repeat."""
        if self.repeated and key in self.repeated:
            return self.repeated[key]
        value = self.headers.get(key)
        return [] if value is None else [value]

    def channel_variables(self) -> dict[str, str]:
        """``ChanVariable: NAME=value`` headers (Asterisk 12+) and ``ChanVariable(chan): NAME=value``
        (Asterisk 1.8-11) as one mapping."""
        found: dict[str, str] = {}
        for key in self.headers:
            if key.startswith("chanvariable"):
                for item in self.values(key):
                    name, _, value = item.partition("=")
                    found[name.strip()] = value.strip()
        return found

    def __repr__(self) -> str:
        return f"AmiMessage({self.name!r}, {len(self.headers)} headers)"


@dataclass(frozen=True, slots=True)
class AmiGreeting:
    """The first line the server sends, e.g. ``Asterisk Call Manager/5.0.1``."""

    text: str

    @property
    def is_asterisk(self) -> bool:
        return "Call Manager/" in self.text


@dataclass(frozen=True, slots=True)
class AmiFrameError:
    """Bytes that are not an AMI message; ``raw`` keeps (the start of) them for the log."""

    reason: str
    raw: bytes


Decoded = AmiMessage | AmiGreeting | AmiFrameError


_HEADER = re.compile(r"([^:\r\n]+):[ \t]*([^\r\n]*)")


def parse_block(block: bytes) -> AmiMessage | AmiFrameError:
    """One message (without its closing empty line) to an :class:`AmiMessage`."""
    text = block.decode("utf-8", "replace")
    pairs = _HEADER.findall(text)
    headers = {key.lower(): value for key, value in pairs}
    repeated: dict[str, list[str]] | None = None
    if len(headers) != len(pairs):
        headers, repeated = {}, {}
        for key, value in pairs:
            key = key.lower()
            if key in headers:
                repeated.setdefault(key, [headers[key]]).append(value)
            else:
                headers[key] = value
    unparsed: tuple[str, ...] = ()
    if text.count("\n") + 1 > len(pairs):
        unparsed = tuple(line for line in text.split("\r\n") if line.strip() and ":" not in line)
    if "event" not in headers and "response" not in headers:
        return AmiFrameError("block has neither Event nor Response", block[:_RAW_KEPT])
    return AmiMessage(headers, block, repeated, unparsed)


class AmiDecoder:
    """Incremental AMI decoder: :meth:`feed` bytes, get complete messages back."""

    def __init__(
        self, *, max_frame: int = DEFAULT_MAX_FRAME, expect_greeting: bool = True,
        wanted: Callable[[bytes], bool] | None = None,
    ) -> None:
        """``wanted`` sees each complete event's bytes before parsing; events it declines are
        counted in :attr:`skipped` and never parsed (most of a PBX's chatter is of no interest)."""
        self._buffer = bytearray()
        self._max_frame = max_frame
        self._greeted = not expect_greeting
        self._skipping = False
        self._wanted = wanted
        self.skipped = 0

    def feed(self, data: bytes) -> list[Decoded]:
        buffer = self._buffer
        buffer += data
        out: list[Decoded] = []
        start = 0
        if not self._greeted:
            end = buffer.find(b"\n")
            if end < 0:
                if len(buffer) > self._max_frame:
                    out.append(AmiFrameError("greeting line too long", bytes(buffer[:_RAW_KEPT])))
                    buffer.clear()
                return out
            out.append(AmiGreeting(buffer[:end].decode("utf-8", "replace").strip()))
            self._greeted = True
            start = end + 1
        if self._skipping:
            end = buffer.find(SEPARATOR, start)
            if end < 0:
                del buffer[: max(start, len(buffer) - 3)]
                return out
            self._skipping = False
            start = end + 4
        find = buffer.find
        wanted = self._wanted
        while True:
            end = find(SEPARATOR, start)
            if end < 0:
                break
            block = bytes(buffer[start:end])
            start = end + 4
            if block[:1] in (b"\r", b"\n"):
                block = block.lstrip(b"\r\n")
            if not block:
                continue
            if len(block) > self._max_frame:
                out.append(AmiFrameError(f"frame of {len(block)} bytes exceeds {self._max_frame}", block[:_RAW_KEPT]))
            elif wanted is not None and block.startswith(b"Event: ") and not wanted(block):
                self.skipped += 1
            else:
                out.append(parse_block(block))
        del buffer[:start]
        if len(buffer) > self._max_frame:
            out.append(AmiFrameError(f"frame exceeds {self._max_frame} bytes", bytes(buffer[:_RAW_KEPT])))
            del buffer[: len(buffer) - 3]
            self._skipping = True
        return out

    @property
    def pending(self) -> bytes:
        """Bytes received but not yet part of a complete message (a cut-off packet)."""
        return bytes(self._buffer)


def encode_action(fields: Mapping[str, object]) -> bytes:
    """An action as AMI bytes; list values become repeated headers.  A value holding CR or LF would
    inject headers of its own, so it is refused."""
    lines: list[str] = []
    for key, value in fields.items():
        for item in value if isinstance(value, list | tuple) else (value,):
            text = str(item)
            if "\r" in text or "\n" in text:
                raise ValueError(f"AMI header {key!r} must not contain CR or LF: {text!r}")
            lines.append(f"{key}: {text}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
