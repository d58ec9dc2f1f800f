"""AMI framing as a PBX speaks it: actions in, responses and events out."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

GREETING = b"Asterisk Call Manager/5.0.4\r\n"
MAX_ACTION = 64 * 1024


def message(fields: Mapping[str, str] | Iterable[tuple[str, str]]) -> bytes:
    """``Key: Value`` lines closed by an empty line."""
    items = fields.items() if isinstance(fields, Mapping) else fields
    return "".join(f"{key}: {value}\r\n" for key, value in items).encode("utf-8") + b"\r\n"


async def read_action(reader: asyncio.StreamReader) -> dict[str, str] | None:
    """The next action from a client (header names as sent, first value wins for lookups; repeated
    ``Variable`` headers are joined with ``|``), or ``None`` at end of stream."""
    try:
        block = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    action: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").split("\r\n"):
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        lookup = key.lower()
        action[lookup] = f"{action[lookup]}|{value}" if lookup in action else value
    return action
