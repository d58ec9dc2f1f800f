"""One normalised call event as the engine's :class:`~channels.base.Inbound`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from channels.base import Address, Inbound
from channels.voice.call import Call

CALL_EVENTS = frozenset(
    {"started", "queued", "ringing", "answered", "hold", "unhold", "transferred", "agent_no_answer", "hangup", "recording"}
)


def call_inbound(
    call: Call,
    kind: str,
    key: str,
    occurred_at: datetime,
    *,
    mode: str,
    uniqueid: str | None = None,
    agent: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Inbound:
    """The Inbound for ``kind`` on ``call``; ``key`` makes the dedupe key unique within the call."""
    metadata: dict[str, Any] = {
        "call_event": kind,
        "linkedid": call.linkedid,
        "uniqueid": uniqueid or call.caller_uniqueid,
        "asterisk_channel": call.caller_channel,
        "caller": call.caller,
        "did": call.did,
        "queue": call.queue,
        "agent": agent if agent is not None else call.agent,
        "direction": call.direction,
        "mode": mode,
    }
    if call.vicidial is not None:
        metadata["vicidial"] = call.vicidial.as_metadata()
    if extra:
        metadata.update(extra)
    return Inbound(
        channel="voice",
        kind="call_event",
        thread_key=f"voice:{call.linkedid}",
        dedupe_key=f"voice:{call.linkedid}:{key}",
        sender=Address("phone", call.caller or "unknown", call.caller_name or None),
        text="",
        occurred_at=occurred_at,
        metadata=metadata,
    )
