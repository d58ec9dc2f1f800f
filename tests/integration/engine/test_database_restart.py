"""PostgreSQL restarts in the middle of the load: a contact either gets a clear error (the caller sends it
again) or, once accepted, ends up on exactly one ticket."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text

from actors.system import LocalEngine
from channels.base import Address, Inbound
from crm_core.database import async_engine
from tests.support.private_pg import PrivateServer

pytestmark = pytest.mark.integration


@pytest.fixture
def private_server():
    """A PostgreSQL of this test's own, so restarting it disturbs no other test."""
    server = PrivateServer("restart_test")
    yield server.url, server.restart
    server.remove()


async def test_contacts_survive_a_database_restart(private_server):
    url, restart = private_server
    local = LocalEngine(url)
    services = await local.start()
    run = uuid.uuid4().hex[:6]
    accepted: set[str] = set()

    async def offer(n: int) -> None:
        item = Inbound(channel="app", thread_key=f"app:restart:{run}-{n}", dedupe_key=f"{run}-{n}",
                       sender=Address("app", f"device-{n}"), text="Перевірте, будь ласка, рахунок")
        for _ in range(200):  # the client sends again until it gets an answer, as an API client would
            try:
                await services.inbox.store(item)
            except Exception:
                await asyncio.sleep(0.1)
            else:
                accepted.add(item.thread_key)
                return

    restarted = asyncio.Event()
    offered = 0

    async def load() -> None:  # until the restart is over, and 120 contacts at least
        nonlocal offered
        while not restarted.is_set() or offered < 120:
            await offer(offered)
            offered += 1
            await asyncio.sleep(0.01)

    async def started_at() -> object:
        return (await _read(url, "SELECT pg_postmaster_start_time()"))[0]

    before = await started_at()
    traffic = asyncio.create_task(load())
    await asyncio.sleep(0.4)
    await asyncio.to_thread(restart)
    restarted.set()
    await traffic
    assert await started_at() > before, "the server restarted under the load"

    async def tickets() -> tuple[int, int]:
        row = await _read(url, "SELECT count(*), count(DISTINCT c.thread_key) FROM tickets t JOIN conversations c"
                               " ON c.id = t.conversation_id WHERE c.thread_key LIKE :p", p=f"app:restart:{run}-%")
        return int(row[0]), int(row[1])

    for _ in range(300):
        counts = await tickets()
        if counts[0] >= len(accepted):
            break
        await asyncio.sleep(0.1)
    await local.stop()
    assert len(accepted) == offered
    assert counts == (offered, offered)


async def _read(url: str, sql: str, **params: object):
    """One row, on a connection of its own: the restart ends the engine's pooled ones."""
    engine = async_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(sql), params)).first()
    finally:
        await engine.dispose()
