"""Hands call events to the engine's sink: in order per call, concurrently across calls, never dropped.

The sink returns once an item is stored durably.  Each call with events on their way has its own line
(a deque and the task draining it, which ends when the line is empty).  The line hands the sink every
event of its call waiting at that moment (a call's Newchannel, queue join and first ring come in one
read), in order, so the sink's group commit stores them in one statement and the conversation gets
them in one message; every call's events are in the sink at once, bounded only by the calls the PBX
carries.  AMI has no acknowledgement to withhold, so an item the sink refuses stays at the head of its
call's line and is retried with backoff until it is stored; later events of the same call wait behind
it (a ``hangup`` must not overtake its ``started``), other calls go on.  The inbox refuses a batch as a
whole when the database is away; only an item refused on its own (bad data) lets the events handed in
with it be stored before it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from channels.base import Inbound, InboundSink

log = logging.getLogger(__name__)


class InboundDelivery:
    def __init__(self, sink: InboundSink, *, retry_initial: float, retry_max: float) -> None:
        self._sink = sink
        self._lines: dict[str, deque[Inbound]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._backlog = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def put(self, item: Inbound) -> None:
        self._backlog += 1
        self._idle.clear()
        line = self._lines.get(item.thread_key)
        if line is not None:
            line.append(item)
            return
        line = self._lines[item.thread_key] = deque((item,))
        task = asyncio.get_running_loop().create_task(self._deliver(item.thread_key, line))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def backlog(self) -> int:
        """Items handed in and not yet stored (waiting, or being retried)."""
        return self._backlog

    async def drain(self) -> None:
        """Wait until every item handed in so far is stored."""
        await self._idle.wait()

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._lines.clear()

    async def _deliver(self, thread_key: str, line: deque[Inbound]) -> None:
        try:
            while line:
                batch = list(line)
                results = await asyncio.gather(*map(self._sink, batch), return_exceptions=True)
                for item, result in zip(batch, results, strict=True):
                    if isinstance(result, asyncio.CancelledError):
                        raise result
                    refused = isinstance(result, Exception)
                    if refused:  # stored before the events behind it, which go to the sink again (a repeat
                        await self._retry(item, result)  # is dropped there)
                    line.popleft()
                    self._backlog -= 1
                    if refused:
                        break
        finally:
            if self._lines.get(thread_key) is line and not line:
                del self._lines[thread_key]
            if not self._backlog:
                self._idle.set()

    async def _retry(self, item: Inbound, error: Exception) -> None:
        delay = self._retry_initial
        while True:
            log.warning("voice sink refused %s (%r); retrying in %.1fs", item.dedupe_key, error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._retry_max)
            try:
                await self._sink(item)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the sink's failure must not lose the item
                error = exc
