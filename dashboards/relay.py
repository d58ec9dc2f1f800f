"""The gateway's one follower of the event hub.

However many pages are open, the gateway long-polls the hub once; each page's event stream reads from
this relay's ring.  A stream that asks for events older than the ring holds is answered by the hub
itself, and when the hub no longer has them either the answer says ``gap``: the page reloads the
snapshot.  A hub that restarted (its ``seq`` went back) is a gap as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from typing import Any

log = logging.getLogger(__name__)

BATCH_LIMIT = 2_000
CATCH_UP_S = 1.0  # how long a seq ahead of the relay may wait for it before it counts as a gap


class EventRelay:
    def __init__(self, hub: Any, ring_size: int = 20_000, poll_s: float = 15.0, on_events: Any = None) -> None:
        self.hub = hub
        self.ring: deque[dict[str, Any]] = deque(maxlen=ring_size)
        self.poll_s = poll_s
        self.on_events = on_events
        self.seq = 0
        self.floor = 0  # the ring holds every event after this seq that still fits in it
        self.healthy = False
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._follow(), name="event-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _follow(self) -> None:
        delay = 0.1
        first = True
        while True:
            try:
                if first:
                    self._restart_at((await self.hub.snapshot())["seq"])
                    first = False
                answer = await self.hub.events_after(self.seq, self.poll_s)
                self.healthy = True
                delay = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.healthy:
                    log.warning("event hub unreachable: %s", exc)
                self.healthy = False
                self._notify()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            self._take(answer)

    def _restart_at(self, seq: int) -> None:
        self.ring.clear()
        self.seq = self.floor = seq
        self.healthy = True
        self._notify()

    def _take(self, answer: dict[str, Any]) -> None:
        events = answer["events"]
        if answer["gap"] or answer["seq"] < self.seq:
            self._restart_at(answer["seq"])
            return
        if events:
            self.ring.extend(events)
            self.seq = events[-1]["seq"]
            if self.on_events is not None:
                self.on_events(events)
            self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def after(self, seq: int, timeout_s: float) -> dict[str, Any]:
        """Events after ``seq`` (waiting up to ``timeout_s`` when there are none yet), like the hub's
        ``events_after``: ``{"seq", "events", "gap"}``.  A ``seq`` ahead of the relay (a snapshot taken
        from the hub a moment before the relay heard of its newest events) waits for the relay to catch
        up for a moment; still ahead after that means the hub restarted: a gap."""
        started = time.monotonic()
        deadline = started + timeout_s
        while seq >= self.seq:
            now = time.monotonic()
            if seq > self.seq and now - started >= CATCH_UP_S:
                return {"seq": self.seq, "events": [], "gap": True}
            remaining = min(deadline, started + CATCH_UP_S) - now if seq > self.seq else deadline - now
            if remaining <= 0:
                return {"seq": seq, "events": [], "gap": False}
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)
        oldest = self.ring[0]["seq"] if self.ring else self.seq + 1
        if seq < self.floor or seq + 1 < oldest:
            return await self.hub.events_after(seq, 0)
        start = seq + 1 - oldest
        events = list(itertools.islice(self.ring, start, start + BATCH_LIMIT))
        return {"seq": events[-1]["seq"] if events else self.seq, "events": events, "gap": False}
