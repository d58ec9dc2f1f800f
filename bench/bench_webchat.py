"""Web chat through the gateway: how fast an agent's reply reaches a visitor's event stream while many
visitors are connected, and what a visitor's message costs next to the keyed API channel.

- Reply delivery: a ``reply`` event published to the event hub -> parsed off the visitor's SSE stream.
  Baseline in the same run: the same with a single visitor connected.
- Visitor messages: ``POST /api/v1/webchat/messages`` (origin check, token, rate limit, inbox write).
  Baseline in the same run: ``POST /api/v1/inbound/site_chat`` with the API key (the same inbox write).

The inbox rows are real (own database); the conversation actors are left out (a stand-in actor system
takes the hand-off), so the figures are the gateway's own.

``python -m bench.bench_webchat [--visitors N] [--replies N] [--messages N]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time
import uuid
from types import SimpleNamespace
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from actors.event_hub import EventHub
from actors.inbox import InboxWriter
from actors.services import HubClient
from actors.settings import Settings
from bench.common import bench_database_url, percentile
from crm_core.database import async_engine
from crm_core.driver_sql import AutocommitPool
from dashboards.app import build_app

SITE_KEY = {"X-Api-Key": "sandbox-webchat-key"}
CONCURRENCY = 20


class HandOffOnly:
    """Stands in for the actor system: every conversation on shard 0, whose notices nobody follows."""

    def shard(self, ref: Any) -> int:
        return 0


class VisitorStream:
    """One visitor's open event stream; notes when each reply arrives."""

    def __init__(self, http: aiohttp.ClientSession, url: str, token: str) -> None:
        self.http, self.url, self.token = http, url, token
        self.arrived: dict[str, float] = {}
        self.ready = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self._read())
        await self.ready.wait()

    async def _read(self) -> None:
        async with self.http.get(self.url, params={"token": self.token}) as response:
            name = None
            async for raw in response.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: ") and name == "snapshot":
                    self.ready.set()
                elif line.startswith("data: ") and name == "reply":
                    self.arrived[line.split('"id":"', 1)[1].split('"', 1)[0]] = time.perf_counter()

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()


async def reply_latencies(hub: EventHub, streams: list[tuple[str, VisitorStream]], replies: int) -> list[float]:
    values = []
    for n in range(replies):
        thread_key, stream = streams[(n * 7919) % len(streams)]
        key = f"reply:bench:{uuid.uuid4().hex[:10]}"
        published = time.perf_counter()
        await hub.publish([{"type": "reply", "id": thread_key, "state": {"text": f"Відповідь {n}", "dedupe_key": key}}])
        while key not in stream.arrived:
            await asyncio.sleep(0.0005)
        values.append((stream.arrived[key] - published) * 1000)
    return values


async def post(http: aiohttp.ClientSession, call: tuple[str, dict, dict]) -> None:
    url, body, headers = call
    async with http.post(url, json=body, headers=headers) as response:
        assert response.status == 202, await response.text()


async def timed_posts(http: aiohttp.ClientSession, kinds: dict[str, list[tuple[str, dict, dict]]],
                      rounds: int = 4) -> dict[str, tuple[list[float], float]]:
    """Per-request latency one at a time, then requests a second with CONCURRENCY at once; the kinds
    take turns (request by request, then round by round), so machine noise falls on both alike."""
    latencies: dict[str, list[float]] = {name: [] for name in kinds}
    busy: dict[str, float] = dict.fromkeys(kinds, 0.0)
    half = min(len(calls) for calls in kinds.values()) // 2
    for i in range(half):
        for name, calls in kinds.items():
            started = time.perf_counter()
            await post(http, calls[i])
            latencies[name].append((time.perf_counter() - started) * 1000)
    step = max(1, half // rounds)
    for start in range(half, 2 * half, step):
        for name, calls in kinds.items():
            pending = iter(calls[start:start + step])

            async def worker(pending=pending) -> None:
                for call in pending:
                    await post(http, call)

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
            busy[name] += time.perf_counter() - started
    return {name: (latencies[name], half / busy[name]) for name in kinds}


async def run(visitors: int, replies: int, messages: int) -> None:
    os.environ.setdefault("SWITCHBOARD_WEBCHAT_SECRET", secrets.token_hex(32))
    db = async_engine(bench_database_url(database="switchboard_bench_webchat"), pool_size=8)
    hub = EventHub()
    autocommit = AutocommitPool(db)
    services = SimpleNamespace(settings=Settings.load(), db=db, hub=HubClient(hub), system=None, crm=None,
                               inbox=InboxWriter(db, HandOffOnly(), autocommit), channels=None)
    server = TestServer(build_app(services), host="127.0.0.1", port=0)
    await server.start_server()
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    streams: list[tuple[str, VisitorStream]] = []
    try:
        sessions = []
        for _ in range(visitors):
            async with http.post(server.make_url("/api/v1/webchat/sessions"), json={"source": "site_chat"}) as r:
                sessions.append(await r.json())
        stream_url = str(server.make_url("/api/v1/webchat/stream"))
        for session in sessions:
            stream = VisitorStream(http, stream_url, session["token"])
            streams.append((f"webchat:site_chat:{session['thread']}", stream))
        await streams[0][1].start()
        alone_ms = await reply_latencies(hub, streams[:1], replies)
        for start in range(1, len(streams), 100):
            await asyncio.gather(*(s.start() for _, s in streams[start:start + 100]))
        crowd_ms = await reply_latencies(hub, streams, replies)

        per_visitor = max(1, messages // len(sessions))
        chat_calls = [(str(server.make_url("/api/v1/webchat/messages")),
                       {"text": "Показники лічильника: 04512", "dedupe_key": uuid.uuid4().hex},
                       {"X-Visitor-Token": s["token"]}) for s in sessions for _ in range(per_visitor)][:messages]
        keyed_calls = [(str(server.make_url("/api/v1/inbound/site_chat")),
                        {"thread": f"bench-{uuid.uuid4().hex[:12]}", "dedupe_key": uuid.uuid4().hex,
                         "from": {"kind": "web", "value": "bench"}, "text": "Показники лічильника: 04512"},
                        SITE_KEY) for _ in range(len(chat_calls))]
        timings = await timed_posts(http, {"keyed": keyed_calls, "chat": chat_calls})
        (keyed_ms, keyed_rate), (chat_ms, chat_rate) = timings["keyed"], timings["chat"]

        print(f"reply -> visitor stream, {replies} replies each")
        for name, values in (("baseline: 1 visitor connected", alone_ms),
                             (f"{visitors} visitors connected", crowd_ms)):
            print(f"  {name:34s} p50 {percentile(values, 0.5):7.2f} ms  p99 {percentile(values, 0.99):7.2f} ms  "
                  f"max {max(values):7.2f} ms")
        print(f"visitor message stored in the inbox, {len(chat_calls)} messages each")
        for name, values, rate in (("baseline: keyed API channel", keyed_ms, keyed_rate),
                                   ("web chat (token, origin, limit)", chat_ms, chat_rate)):
            print(f"  {name:34s} p50 {percentile(values, 0.5):7.2f} ms  p99 {percentile(values, 0.99):7.2f} ms  "
                  f"{rate:7.0f}/s with {CONCURRENCY} at once")
    finally:
        for _, stream in streams:
            await stream.stop()
        await http.close()
        await server.close()
        await autocommit.close()
        await db.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visitors", type=int, default=500)
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument("--messages", type=int, default=1_000)
    args = parser.parse_args(argv)
    asyncio.run(run(args.visitors, args.replies, args.messages))


if __name__ == "__main__":
    main()
