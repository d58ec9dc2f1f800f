"""What a web-chat visitor's event stream carries: the transcript of their open conversation first, then
the agents' replies on their thread as they happen, each reply once.

Replies to web channels reach the hub twice: the channel's delivery (``reply``, keyed by the reply's
dedupe key, published when it is sent) and the desk's record of it (``message`` with direction ``out``,
published a moment later when it is stored).  The visitor gets the delivery; a ``message`` is passed on
only when no delivery of the same text on the thread shortly precedes it in the relay's ring.  Deciding
from the ring rather than from what one connection has seen keeps the answer the same after a reconnect.
"""

from __future__ import annotations

from typing import Any

from crm_core import tickets
from dashboards.context import Gateway

ECHO_LOOKBACK = 2_000  # hub events between a reply's delivery and its record, at most
VISITOR_DIRECTIONS = ("in", "out")


def thread_key(source: str, thread: str) -> str:
    return f"webchat:{source}:{thread}"


def client_key_prefix(source: str, thread: str) -> str:
    """The visitor's own message keys are stored as ``<prefix><key>``: unique per thread, so one visitor's
    keys never collide with another's."""
    return f"{thread_key(source, thread)}:"


class VisitorFeed:
    """Selects and shapes the hub events of one visitor's thread (the ``select`` and ``snapshot`` of
    :func:`dashboards.routes.webchat_stream.visitor_stream`)."""

    def __init__(self, gw: Gateway, source: str, thread: str, history_limit: int) -> None:
        self.gw = gw
        self.thread_key = thread_key(source, thread)
        self.own_prefix = client_key_prefix(source, thread)
        self.history_limit = history_limit

    async def snapshot(self) -> dict[str, Any]:
        """The transcript: the open conversation's messages from the database, plus deliveries still in
        the ring that were published but not yet stored when the database was read."""
        seq = self.gw.relay.seq
        messages = await self._stored()
        known = {m["id"] for m in messages}
        for event in self._recent(seq):
            if event.get("type") == "reply" and event.get("id") == self.thread_key:
                shown = self._reply(event)
                if shown["id"] not in known:
                    known.add(shown["id"])
                    messages.append({**shown, "direction": "out"})
        return {"seq": seq, "messages": messages}

    def select(self, event: dict[str, Any]) -> dict[str, Any] | None:
        if event.get("id") != self.thread_key:
            return None
        state = event.get("state") or {}
        if event.get("type") == "reply":
            return self._reply(event)
        if event.get("type") == "message" and state.get("direction") == "out" and not self._is_echo(event):
            return {"id": f"event:{event['seq']}", "text": state.get("text", ""), "at": event.get("at")}
        return None

    @staticmethod
    def _reply(event: dict[str, Any]) -> dict[str, Any]:
        state = event.get("state") or {}
        return {"id": state.get("dedupe_key") or f"event:{event['seq']}", "text": state.get("text", ""),
                "at": event.get("at")}

    def _recent(self, before_seq: int) -> list[dict[str, Any]]:
        """Up to :data:`ECHO_LOOKBACK` ring events with a seq up to ``before_seq``, newest first."""
        found: list[dict[str, Any]] = []
        for event in reversed(self.gw.relay.ring):
            if event["seq"] > before_seq:
                continue
            found.append(event)
            if len(found) >= ECHO_LOOKBACK:
                break
        return found

    def _is_echo(self, record: dict[str, Any]) -> bool:
        text = (record.get("state") or {}).get("text")
        unrecorded = 0
        for event in self._recent(record["seq"] - 1):
            state = event.get("state") or {}
            if event.get("id") != self.thread_key or state.get("text") != text:
                continue
            if event.get("type") == "reply":
                unrecorded += 1
            elif event.get("type") == "message" and state.get("direction") == "out":
                unrecorded -= 1
        return unrecorded > 0

    async def _stored(self) -> list[dict[str, Any]]:
        async with self.gw.services.db.connect() as conn:
            rows = await tickets.thread_messages(conn, self.thread_key, VISITOR_DIRECTIONS, self.history_limit)
        return [{"id": row.dedupe_key.removeprefix(self.own_prefix), "direction": row.direction, "text": row.text,
                 "at": row.at.timestamp()} for row in reversed(rows)]
