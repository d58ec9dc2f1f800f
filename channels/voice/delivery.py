"""Hands call events to the engine's sink: in order per call, concurrently across calls, never dropped.

The sink returns once an item is stored durably.  AMI has no acknowledgement to withhold, so an item
the sink refuses stays at the head of its call's line and is retried with backoff until it is
stored; later events of the same call wait behind it (a ``hangup`` must not overtake its
``started``), other calls go on.
"""

from __future__ import annotations

import asyncio
import logging

from channels.base import Inbound, InboundSink

log = logging.getLogger(__name__)


class InboundDelivery:
    def __init__(self, sink: InboundSink, *, workers: int, retry_initial: float, retry_max: float) -> None:
        self._sink = sink
        self._lines: list[asyncio.Queue[Inbound]] = [asyncio.Queue() for _ in range(workers)]
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._tasks: list[asyncio.Task[None]] = []
        self._in_flight = 0

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._deliver(line), name=f"voice-delivery-{n}") for n, line in enumerate(self._lines)]

    def put(self, item: Inbound) -> None:
        self._lines[hash(item.thread_key) % len(self._lines)].put_nowait(item)

    @property
    def backlog(self) -> int:
        """Items handed in and not yet stored (waiting, or being retried)."""
        return sum(line.qsize() for line in self._lines) + self._in_flight

    async def drain(self) -> None:
        """Wait until every item handed in so far is stored."""
        await asyncio.gather(*(line.join() for line in self._lines))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _deliver(self, line: asyncio.Queue[Inbound]) -> None:
        while True:
            item = await line.get()
            self._in_flight += 1
            delay = self._retry_initial
            while True:
                try:
                    await self._sink(item)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the sink's failure must not lose the item
                    log.warning("voice sink refused %s (%r); retrying in %.1fs", item.dedupe_key, exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self._retry_max)
            self._in_flight -= 1
            line.task_done()
