"""``Inbound`` to and from plain JSON, as the inbox stores it."""

from __future__ import annotations

import base64
import json
import math
import re
from datetime import datetime
from typing import Any

from channels.base import Address, Attachment, Inbound


def attachment_to_json(a: Attachment) -> dict[str, Any]:
    return {"filename": a.filename, "content_type": a.content_type, "size": a.size, "url": a.url,
            "data": base64.b64encode(a.data).decode() if a.data is not None else None}


def attachment_from_json(raw: dict[str, Any]) -> Attachment:
    data = raw.get("data")
    return Attachment(filename=raw["filename"], content_type=raw["content_type"], size=int(raw["size"]),
                      data=base64.b64decode(data) if data is not None else None, url=raw.get("url"))


def inbound_to_json(item: Inbound) -> dict[str, Any]:
    return {
        "channel": item.channel, "thread_key": item.thread_key, "dedupe_key": item.dedupe_key,
        "sender": {"kind": item.sender.kind, "value": item.sender.value, "name": item.sender.display_name},
        "text": item.text, "kind": item.kind, "subject": item.subject,
        "attachments": [attachment_to_json(a) for a in item.attachments],
        "occurred_at": item.occurred_at.isoformat(), "metadata": dict(item.metadata),
    }


def inbound_from_json(raw: dict[str, Any]) -> Inbound:
    sender = raw["sender"]
    return Inbound(
        channel=raw["channel"], thread_key=raw["thread_key"], dedupe_key=raw["dedupe_key"],
        sender=Address(sender["kind"], sender["value"], sender.get("name")), text=raw.get("text", ""),
        kind=raw.get("kind", "message"), subject=raw.get("subject"),
        attachments=tuple(attachment_from_json(a) for a in raw.get("attachments", ())),
        occurred_at=datetime.fromisoformat(raw["occurred_at"]), metadata=raw.get("metadata", {}),
    )


#: What takes the place of a character PostgreSQL refuses to store: NUL, or half a surrogate pair.
REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(value: str) -> str:
    """``value`` with every NUL and lone surrogate replaced by U+FFFD.  A decoded JSON string may hold a
    lone surrogate (``"\\ud83d"``); a well-formed pair was already joined by the decoder, so every
    surrogate left in a ``str`` is a lone one."""
    return _UNSTORABLE.sub(REPLACEMENT, value)


def storable(value: Any) -> Any:
    """A JSON tree (dicts, lists, strings, numbers) with every string, keys included, made storable,
    and every float that is not finite (no JSON for it) made ``None``."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(str(key)): storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def exact_bytes(value: Any) -> bytes:
    """The JSON of ``value`` as UTF-8, byte-exact even where it holds lone surrogates (``surrogatepass``):
    what a peer sent, kept as it came beside the storable form."""
    return json.dumps(value, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass")


def from_exact_bytes(raw: bytes) -> Any:
    return json.loads(raw.decode("utf-8", "surrogatepass"))
