"""A PostgreSQL restart that no statement saw happen leaves every pooled connection closed by the server
(issue 14, database faults: no request may fail on a stale pooled connection).  Both kinds of pool of a
service process, the engine's and the autocommit pool, give the next statements fresh connections."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from crm_core.database import async_engine
from crm_core.driver_sql import AutocommitPool, fetch_value
from tests.support.private_pg import PrivateServer

pytestmark = pytest.mark.integration
STATEMENTS = 12


@pytest.fixture
def server():
    private = PrivateServer("closed")
    yield private
    private.remove()


async def test_statements_after_a_restart_get_fresh_connections(server):
    engine = async_engine(server.url, pool_size=4)
    autocommit = AutocommitPool(engine, connections=4)

    async def through_engine() -> int:
        async with engine.connect() as conn:
            return int((await conn.execute(text("SELECT 1"))).scalar_one())

    async def through_autocommit() -> int:
        return int(await fetch_value(autocommit, "SELECT 1"))

    async def all_of_them() -> list[int | BaseException]:
        return await asyncio.gather(*(through_engine() for _ in range(STATEMENTS)),
                                    *(through_autocommit() for _ in range(STATEMENTS)), return_exceptions=True)

    try:
        assert await all_of_them() == [1] * 2 * STATEMENTS  # both pools hold several connections now
        await asyncio.to_thread(server.restart)
        answers = await all_of_them()
        assert answers == [1] * 2 * STATEMENTS, [a for a in answers if a != 1]
    finally:
        await autocommit.close()
        await engine.dispose()
