"""The inbox's group commit: a burst is stored together, each caller hears of its own item only —
its id, ``None`` for a duplicate, or the error of its own bad item — and each stored item is handed to
its conversation once."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from actors import messages as m
from actors.inbox import InboxWriter
from channels.base import Address, Inbound
from crm_core import driver_sql
from crm_core.database import async_engine


class TellRecorder:
    """Stands in for the actor system: one shard, records what the conversations are told."""

    def __init__(self) -> None:
        self.told: list[tuple[str, m.InboxDelivery]] = []

    def shard(self, ref):  # noqa: ANN001, ANN201
        return 0

    def tell(self, ref, message):  # noqa: ANN001, ANN201
        self.told.append((ref.id, message))


def item(thread: str, key: str) -> Inbound:
    return Inbound(channel="webchat", thread_key=thread, dedupe_key=key, sender=Address("web", "visitor"),
                   text="Добрий день")


@pytest.fixture
async def inbox(fresh_db_url):
    engine = async_engine(fresh_db_url, pool_size=2)
    system = TellRecorder()
    autocommit = driver_sql.AutocommitPool(engine)
    writer = InboxWriter(engine, system, autocommit)  # type: ignore[arg-type]
    yield writer, system, engine
    await autocommit.close()
    await engine.dispose()


async def test_a_burst_is_stored_once_each_and_told_once_each(inbox):
    writer, system, engine = inbox
    burst = [item(f"webchat:site:{n}", f"burst-{n}") for n in range(40)] + [item("webchat:site:0", "burst-0")] * 3
    ids = await asyncio.gather(*(writer.store(i) for i in burst))
    assert len(set(ids[:40])) == 40 and None not in ids[:40]
    assert ids[40:] == [None, None, None]  # the same dedupe key again: a duplicate, stored once
    assert sorted(message.inbox_id for _, message in system.told) == sorted(ids[:40])
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM inbox WHERE dedupe_key LIKE 'burst-%'"))).scalar() == 40
    assert await writer.store(item("webchat:site:0", "burst-0")) is None


async def test_a_bad_item_fails_alone(inbox):
    writer, _, engine = inbox
    good = [item(f"webchat:site:g{n}", f"good-{n}") for n in range(5)]
    bad = item("webchat:site:" + "x" * 300, "bad-1")  # longer than a thread key may be
    results = await asyncio.gather(*(writer.store(i) for i in [*good[:2], bad, *good[2:]]), return_exceptions=True)
    assert isinstance(results[2], DBAPIError)
    assert all(isinstance(r, int) for r in results[:2] + results[3:])
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM inbox WHERE dedupe_key LIKE 'good-%'"))).scalar() == 5


async def test_the_autocommit_pool_replaces_the_connections_it_lost(fresh_db_url):
    engine = async_engine(fresh_db_url, pool_size=1)
    reader = driver_sql.AutocommitPool(engine)
    try:
        before = await driver_sql.fetch_value(reader, "SELECT pg_backend_pid()")
        async with engine.begin() as conn:  # the server drops every other session, as a restart does
            await conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        with pytest.raises(DBAPIError) as lost:
            await driver_sql.fetch_value(reader, "SELECT 1")
        assert lost.value.connection_invalidated
        after = before
        for _ in range(3):  # idle connections lost with it are found by the pool's check, or by a statement
            with contextlib.suppress(DBAPIError):
                after = await driver_sql.fetch_value(reader, "SELECT pg_backend_pid()")
                break
        assert after != before
    finally:
        await reader.close()
        await engine.dispose()
