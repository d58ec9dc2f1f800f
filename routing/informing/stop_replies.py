"""Replies that mean "stop": an SMS saying STOP / СТОП, a Viber user unsubscribing from the bot.  Each
becomes an opt-out of every topic on its channel for the client the sender's contact belongs to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

STOP_WORDS = frozenset({"STOP", "СТОП", "STOPALL", "UNSUBSCRIBE", "ВІДПИСАТИСЯ", "ВІДПИСКА"})
_NOT_LETTERS = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class StopRequest:
    channel: str
    contact_kind: str
    contact: str
    source: str


def stop_request(channel: str, kind: str, sender_kind: str, sender: str, text: str,
                 metadata: dict[str, Any]) -> StopRequest | None:
    """The opt-out an inbound item asks for, or None.  An SMS counts when its whole text is a stop word
    (any case, punctuation and spaces ignored), so "стоп, дякую за допомогу" in a chat is not one."""
    if channel == "sms" and kind == "message" and _NOT_LETTERS.sub("", text).upper() in STOP_WORDS:
        return StopRequest("sms", "phone", sender, "sms_stop_reply")
    if channel == "viber" and metadata.get("event") == "unsubscribed":
        return StopRequest("viber", sender_kind, sender, "viber_unsubscribed")
    return None
