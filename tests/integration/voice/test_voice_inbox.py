"""Calls at 50 per second through a voice channel into PostgreSQL's inbox, with a dropped AMI session
in the middle: every call arrives once, ends once, and nothing is stored twice."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from channels.base import Inbound
from channels.sandbox.pbx import AmiServer
from channels.voice import build
from crm_core.database import async_engine
from crm_core.models import InboxItem

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = async_engine(db_url)
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM inbox WHERE channel = 'voice'"))
    yield engine
    await engine.dispose()


def inbox_sink(engine: AsyncEngine):  # noqa: ANN201 - an InboundSink
    async def store(item: Inbound) -> None:
        payload = json.loads(json.dumps({**item.metadata, "occurred_at": item.occurred_at.isoformat()}))
        statement = (insert(InboxItem.__table__)
                     .values(dedupe_key=item.dedupe_key, channel="voice", thread_key=item.thread_key, shard=0, payload=payload)
                     .on_conflict_do_nothing(index_elements=["dedupe_key"]))
        async with engine.begin() as conn:
            await conn.execute(statement)

    return store


async def test_fifty_calls_a_second_survive_a_dropped_session(engine: AsyncEngine) -> None:
    pbx = AmiServer(time_scale=0.2)  # calls last 0.2-2 s: none fits inside the reconnect gap
    await pbx.start()
    channel = build({"port": pbx.port, "secret": "sandbox", "reconnect_initial_seconds": 0.02, "ping_interval_seconds": 1})
    await channel.start(inbox_sink(engine))
    try:
        traffic = asyncio.ensure_future(pbx.run_traffic(50, 3, agents=["1001", "1002", "1003"], callers=["0671234567", "0501234567"]))
        await asyncio.sleep(1.5)
        pbx.cut_mid_packet()
        calls = await traffic
        async with asyncio.timeout(30):
            while set(pbx.state.channels) - {phone.uniqueid for _, phone in pbx.seated_agents.values()}:
                await asyncio.sleep(0.05)  # every call ended; agents stay logged in to their sessions
        await channel.wait_connected(10)
        await channel.ping()
        await channel.drain()
        restarted = build({"port": pbx.port, "secret": "sandbox"})
        await restarted.start(inbox_sink(engine))
        await restarted.drain()
        await restarted.stop()
    finally:
        await channel.stop()
        await pbx.stop()
    assert channel.stats.sessions == 2
    async with engine.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT thread_key, payload->>'call_event' AS kind, count(*) FROM inbox WHERE channel = 'voice'"
            " GROUP BY thread_key, kind"))).all()
    per_call: dict[str, dict[str, int]] = {}
    for thread, kind, count in rows:
        per_call.setdefault(thread, {})[kind] = count
    assert len(per_call) == calls
    assert all(kinds.get("started") == 1 and kinds.get("hangup") == 1 for kinds in per_call.values())
