"""Visitors' event streams: one follower of the relay hands each web-chat thread's events to the streams
of that thread only.

The staff streams (:mod:`dashboards.sse`) each read the relay and filter it, so every event wakes every
open stream; that suits a few hundred staff pages, not thousands of visitors each waiting for replies
on one thread.  Here a reply wakes only its visitor's stream.  The stream keeps the same contract:
``snapshot`` first (or, with ``Last-Event-ID``, exactly the missed events, read back from the relay),
events with ``id: <seq>``, a fresh ``snapshot`` when the missed events are gone, and a ``heartbeat``
saying whether the engine's feed is live.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from dashboards.context import gateway
from dashboards.relay import CATCH_UP_S, EventRelay
from dashboards.sse import RETRY_MS, frame, last_event_id

log = logging.getLogger(__name__)

GAP: dict[str, Any] = {"type": "gap"}  # put to every stream when the relay lost events: send a snapshot
GONE: dict[str, Any] = {"type": "gone"}  # put to a stream whose visitor disconnected: end it
THREAD_EVENTS = ("reply", "message")
FOLLOW_POLL_S = 15.0
SWEEP_S = 1.0
STREAM_HEADERS = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache, no-transform",
                  "X-Accel-Buffering": "no"}

Select = Callable[[dict[str, Any]], dict[str, Any] | None]
Snapshot = Callable[[], Awaitable[dict[str, Any]]]


class ThreadDispatch:
    """Follows the relay (from the first subscription on) and queues each thread event for the
    streams subscribed to its thread.  It also notices visitors who went away (the gateway does not
    cancel a handler when its client disconnects) and ends their streams within :data:`SWEEP_S`, so an
    idle stream costs nothing until its heartbeat."""

    def __init__(self, relay: EventRelay) -> None:
        self.relay = relay
        self.subscribers: dict[str, dict[asyncio.Queue[dict[str, Any]], web.Request]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def subscribe(self, thread_key: str, request: web.Request) -> asyncio.Queue[dict[str, Any]]:
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._follow(self.relay.seq), name="webchat-dispatch"),
                           asyncio.create_task(self._sweep(), name="webchat-sweep")]
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.subscribers.setdefault(thread_key, {})[queue] = request
        return queue

    def unsubscribe(self, thread_key: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        queues = self.subscribers.get(thread_key, {})
        queues.pop(queue, None)
        if not queues:
            self.subscribers.pop(thread_key, None)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            for queues in list(self.subscribers.values()):
                for queue, request in list(queues.items()):
                    if request.transport is None or request.transport.is_closing():
                        queue.put_nowait(GONE)

    async def _follow(self, seq: int) -> None:
        while True:
            try:
                answer = await self.relay.after(seq, FOLLOW_POLL_S)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the hub did not answer a read-back: the relay reports it; try again
                log.warning("web chat dispatch: %s", exc)
                await asyncio.sleep(1.0)
                continue
            if answer["gap"]:
                for queues in self.subscribers.values():
                    for queue in queues:
                        queue.put_nowait(GAP)
            for event in answer["events"]:
                if event.get("type") in THREAD_EVENTS:
                    for queue in self.subscribers.get(event.get("id"), ()):
                        queue.put_nowait(event)
            seq = answer["seq"]


async def visitor_stream(request: web.Request, dispatch: ThreadDispatch, thread_key: str, select: Select,
                         snapshot: Snapshot) -> web.StreamResponse:
    gw = gateway(request)
    response = web.StreamResponse(headers=STREAM_HEADERS)
    await response.prepare(request)
    gw.metrics.streams.inc()
    queue = dispatch.subscribe(thread_key, request)
    try:
        await response.write(f"retry: {RETRY_MS}\n\n".encode())
        seq = last_event_id(request)
        seq = await _send_snapshot(response, snapshot) if seq is None else await _catch_up(response, gw.relay, seq,
                                                                                            select, snapshot)
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), gw.settings.heartbeat_s)
            except TimeoutError:
                await response.write(frame("heartbeat", {"seq": seq, "live": gw.relay.healthy, "at": time.time()}))
                continue
            if event is GONE:
                break
            if event is GAP:
                seq = await _send_snapshot(response, snapshot)
            elif event["seq"] > seq:
                seq = event["seq"]
                if (shown := select(event)) is not None:
                    await response.write(frame(event["type"], shown, seq))
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    except Exception as exc:  # the hub or the database went away: say so; the browser reconnects
        log.warning("visitor stream ended: %s", exc)
        with contextlib.suppress(ConnectionResetError):
            await response.write(frame("heartbeat", {"seq": None, "live": False, "at": time.time()}))
    finally:
        dispatch.unsubscribe(thread_key, queue)
        gw.metrics.streams.dec()
    return response


async def _catch_up(response: web.StreamResponse, relay: EventRelay, seq: int, select: Select,
                    snapshot: Snapshot) -> int:
    """Send what the visitor missed after ``seq`` (read back from the relay) up to the relay's newest
    event; the stream's queue holds everything dispatched from its subscription on."""
    while True:
        answer = await relay.after(seq, CATCH_UP_S if seq > relay.seq else 0)
        if answer["gap"]:
            return await _send_snapshot(response, snapshot)
        if not answer["events"]:
            return seq
        chunks = [frame(event["type"], shown, event["seq"]) for event in answer["events"]
                  if (shown := select(event)) is not None]
        if chunks:
            await response.write(b"".join(chunks))
        seq = answer["seq"]


async def _send_snapshot(response: web.StreamResponse, snapshot: Snapshot) -> int:
    data = await snapshot()
    await response.write(frame("snapshot", data, data["seq"]))
    return int(data["seq"])
