"""The event hub: every state change of an entity actor passes through here on its way to the live
dashboards.

It keeps the newest state of every queue, agent and conversation (the snapshot a page loads first) and
a bounded ring of recent events numbered by ``seq`` (what a page's event stream follows, and replays
after a reconnect).  It is a plain Ray actor; hosts send it batches, the dashboard gateway long-polls it.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from typing import Any

SNAPSHOT_TYPES = ("queue", "agent", "conversation")


class EventHub:
    """Snapshot plus ring buffer; usable in-process or as the body of a Ray actor."""

    def __init__(self, ring_size: int = 50_000) -> None:
        self.seq = 0
        self.ring: deque[dict[str, Any]] = deque(maxlen=ring_size)
        self.snapshot: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in SNAPSHOT_TYPES}
        self._changed = asyncio.Event()

    async def publish(self, batch: list[dict[str, Any]]) -> int:
        now = time.time()
        for event in batch:
            self.seq += 1
            event = {**event, "seq": self.seq, "at": event.get("at", now)}
            self.ring.append(event)
            kind = event.get("type")
            if kind in self.snapshot:
                if event.get("removed"):
                    self.snapshot[kind].pop(str(event["id"]), None)
                else:
                    self.snapshot[kind][str(event["id"])] = event
        self._changed.set()
        self._changed = asyncio.Event()
        return self.seq

    async def get_snapshot(self) -> dict[str, Any]:
        return {"seq": self.seq, **{kind: list(items.values()) for kind, items in self.snapshot.items()}}

    async def events_after(self, seq: int, timeout_s: float = 15.0, limit: int = 2_000) -> dict[str, Any]:
        """Events with ``seq`` greater than the given one, waiting up to ``timeout_s`` for the first.

        ``gap`` is true when events the caller has not seen have already left the ring: it must reload
        the snapshot.
        """
        if seq >= self.seq:
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), timeout_s)
            except TimeoutError:
                return {"seq": self.seq, "events": [], "gap": False}
        oldest = self.ring[0]["seq"] if self.ring else self.seq + 1
        gap = seq + 1 < oldest
        start = max(0, seq + 1 - oldest)
        events = [] if gap else list(itertools.islice(self.ring, start, start + limit))
        return {"seq": events[-1]["seq"] if events else self.seq, "events": events, "gap": gap}
