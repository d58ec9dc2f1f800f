"""The inbox's group commit: a burst is stored together, each caller hears of its own item only —
its id, ``None`` for a duplicate, or the error of its own bad item — and each stored item is announced
to its shard's host once, in the order stored, whatever its size."""

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
from tests.support.engine import eventually


class TellRecorder:
    """Stands in for the actor system and the host of its one shard: records what the host is handed."""

    def __init__(self) -> None:
        self.told: list[tuple[str, m.InboxDelivery]] = []

    def shard(self, ref):  # noqa: ANN001, ANN201
        return 0

    def tell(self, entity_id, message):  # noqa: ANN001, ANN201
        self.told.append((entity_id, message))


def item(thread: str, key: str) -> Inbound:
    return Inbound(channel="webchat", thread_key=thread, dedupe_key=key, sender=Address("web", "visitor"),
                   text="Добрий день")


@pytest.fixture
async def inbox(fresh_db_url):
    engine = async_engine(fresh_db_url, pool_size=2)
    system = TellRecorder()
    autocommit = driver_sql.AutocommitPool(engine)
    writer = InboxWriter(engine, system, autocommit)  # type: ignore[arg-type]
    await writer.follow(0, system.tell)
    yield writer, system, engine
    await writer.close()
    await autocommit.close()
    await engine.dispose()


async def test_a_burst_is_stored_once_each_and_told_once_each(inbox):
    writer, system, engine = inbox
    burst = [item(f"webchat:site:{n}", f"burst-{n}") for n in range(40)] + [item("webchat:site:0", "burst-0")] * 3
    ids = await asyncio.gather(*(writer.store(i) for i in burst))
    assert len(set(ids[:40])) == 40 and None not in ids[:40]
    assert ids[40:] == [None, None, None]  # the same dedupe key again: a duplicate, stored once
    await eventually(lambda: _async(len(system.told) >= 40))
    assert [message.inbox_id for _, message in system.told] == sorted(ids[:40])  # once each, in order
    assert [thread for thread, _ in system.told] == [f"webchat:site:{n}" for n in range(40)]
    assert system.told[7][1].payload["text"] == "Добрий день"
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM inbox WHERE dedupe_key LIKE 'burst-%'"))).scalar() == 40
    assert await writer.store(item("webchat:site:0", "burst-0")) is None


async def test_an_item_too_big_for_a_notice_is_announced_by_its_id_and_handed_over_whole(inbox):
    writer, system, _ = inbox
    big = Inbound(channel="email", thread_key="email:big", dedupe_key="big-1", sender=Address("email", "a@b.ua"),
                  text="лист " * 5_000)
    inbox_id = await writer.store(big)
    told = await eventually(lambda: _async(system.told))
    assert told[0][0] == "email:big" and told[0][1].inbox_id == inbox_id
    assert told[0][1].payload["text"] == big.text


async def _async(value):
    return value


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
        try:  # a connection the server closed is found at checkout, or fails its one statement
            await driver_sql.fetch_value(reader, "SELECT 1")
        except DBAPIError as lost:
            assert lost.connection_invalidated
        after = before
        for _ in range(3):  # idle connections lost with it are found by the pool's check, or by a statement
            with contextlib.suppress(DBAPIError):
                after = await driver_sql.fetch_value(reader, "SELECT pg_backend_pid()")
                break
        assert after != before
    finally:
        await reader.close()
        await engine.dispose()

