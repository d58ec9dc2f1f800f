"""The live events of one process's entities on their way to the event hub.

Entities publish state changes as they happen; the outbox sends what gathered in one batch every
``flush_s`` (one Ray call to the hub for all the hosts of a process, however many events), or at once
when an urgent event asks for it (a screen pop must reach the desktop while the call rings).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

#: How often the gathered events go out: the supervisor wall's bar is a second; each flush is a Ray call
#: to the hub and wakes every stream that follows it.
FLUSH_S = 0.1


class EventOutbox:
    def __init__(self, send: Callable[[list[dict[str, Any]]], Any], flush_s: float = FLUSH_S) -> None:
        self._send = send
        self.flush_s = flush_s
        self._events: list[dict[str, Any]] = []
        self._flush_soon = False
        self._flushes: set[asyncio.Task[None]] = set()

    def publish(self, event: dict[str, Any], *, at_once: bool = False) -> None:
        self._events.append(event)
        if at_once and not self._flush_soon:  # one flush for every urgent event of this loop turn
            self._flush_soon = True
            flush = asyncio.create_task(self._flush_at_once())
            self._flushes.add(flush)
            flush.add_done_callback(self._flushes.discard)

    async def _flush_at_once(self) -> None:
        self._flush_soon = False
        await self.flush_logged()

    async def flush(self) -> None:
        if self._events:
            batch, self._events = self._events, []
            result = self._send(batch)
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                await result

    async def flush_logged(self) -> None:
        try:
            await self.flush()
        except Exception:
            log.exception("%d live events not published", len(self._events))

    async def run(self) -> None:
        """Flush every ``flush_s`` until cancelled."""
        while True:
            await asyncio.sleep(self.flush_s)
            await self.flush_logged()
