"""Server-sent event streams of the live state.

A stream starts with a ``snapshot`` event (unless the browser reconnects with ``Last-Event-ID``: then it
gets exactly the events it missed), then every event the viewer may see, each with ``id: <seq>`` so the
browser's reconnect resumes where it stopped.  When the missed events are gone it gets a fresh
``snapshot``.  A ``heartbeat`` every few seconds says whether the engine's feed is live, so the page
never shows a stale wall as live; an expired session ends the stream with ``session_expired``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from actors.runtime.heap import release_freed_memory
from dashboards.context import TOKEN, gateway
from dashboards.jsonutil import dumps

Select = Callable[[dict[str, Any]], dict[str, Any] | None]
Snapshot = Callable[[], Awaitable[dict[str, Any]]]
RETRY_MS = 1500

log = logging.getLogger(__name__)


def last_event_id(request: web.Request) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.query.get("last_event_id")
    try:
        value = int(raw) if raw is not None else None
    except ValueError:
        return None
    return value if value is not None and value >= 0 else None


def frame(event: str, data: Any, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {dumps(data)}\n\n".encode()


async def stream(request: web.Request, select: Select, snapshot: Snapshot) -> web.StreamResponse:
    gw = gateway(request)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8",
                                           "Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"})
    await response.prepare(request)
    gw.metrics.streams.inc()
    token = request.get(TOKEN)
    handler = asyncio.current_task()
    if handler is not None:
        gw.streams.add(handler)
    try:
        await response.write(f"retry: {RETRY_MS}\n\n".encode())
        seq = last_event_id(request)
        if seq is None:
            seq = await _send_snapshot(response, snapshot)
        next_check = time.monotonic() + gw.settings.heartbeat_s
        while True:
            answer = await gw.relay.after(seq, gw.settings.heartbeat_s)
            if answer["gap"]:
                seq = await _send_snapshot(response, snapshot)
                continue
            chunks = []
            for event in answer["events"]:
                shown = select(event)
                if shown is not None:
                    chunks.append(frame(event.get("type", "event"), shown, event["seq"]))
            seq = answer["seq"]
            if chunks:
                await response.write(b"".join(chunks))
            if time.monotonic() >= next_check or not (chunks or answer["events"]):
                next_check = time.monotonic() + gw.settings.heartbeat_s
                if token is not None and await gw.sessions.resolve(token) is None:
                    await response.write(frame("session_expired", {}))
                    break
                await response.write(frame("heartbeat", {"seq": seq, "live": gw.relay.healthy, "at": time.time()}))
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    except Exception as exc:  # the hub or the database went away: say so; the browser reconnects
        log.warning("event stream ended: %s", exc)
        with contextlib.suppress(ConnectionResetError):
            await response.write(frame("heartbeat", {"seq": None, "live": False, "at": time.time()}))
    finally:
        gw.metrics.streams.dec()
        gw.streams.discard(handler)  # type: ignore[arg-type]
        if not gw.streams:
            _release_memory_soon(gw)
    return response


RELEASE_AFTER_S = 2.0
_releasing: set[asyncio.TimerHandle] = set()


def _release_memory_soon(gw: Any) -> None:
    """Once the last stream has closed (and none opened for a moment), the memory their connections
    took goes back to the system instead of staying at the peak."""
    if _releasing:
        return
    loop = asyncio.get_running_loop()

    def release() -> None:
        _releasing.clear()
        if not gw.streams:
            release_freed_memory()

    _releasing.add(loop.call_later(RELEASE_AFTER_S, release))


async def _send_snapshot(response: web.StreamResponse, snapshot: Snapshot) -> int:
    data = await snapshot()
    await response.write(frame("snapshot", data, data["seq"]))
    return int(data["seq"])
