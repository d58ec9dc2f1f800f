"""Handled inbox items are removed after the retention (issue 17 §6: the inbox kept every payload for
ever); items not handled yet, and handled ones still within it, stay — and so do their dedupe keys: the
same item again within the retention is stored once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from crm_core import inbox
from crm_core.database import async_engine

pytestmark = pytest.mark.integration


@pytest.fixture
async def db(fresh_db_url):
    engine = async_engine(fresh_db_url)
    yield engine
    await engine.dispose()


async def _store(conn, keys, shard=0):
    return await inbox.store_batch(conn, keys, ["app"] * len(keys), [f"app:{k}" for k in keys], [shard] * len(keys),
                                   [json.dumps({"thread_key": f"app:{k}", "text": "Є газ?"}) for k in keys])


async def test_handled_items_older_than_the_retention_are_removed_and_no_others(db):
    async with db.begin() as conn:
        stored = await _store(conn, [f"old-{n}" for n in range(5)] + ["old-pending", "young", "other-shard"])
        await _store(conn, ["shard-1-old"], shard=1)
        await conn.execute(text("UPDATE inbox SET received_at = now() - interval '40 days'"
                                " WHERE dedupe_key LIKE 'old-%' OR dedupe_key LIKE 'shard-1-%'"))
        await conn.execute(text("UPDATE inbox SET processed_at = now() WHERE dedupe_key <> 'old-pending'"))
    assert len(stored) == 8

    async with db.begin() as conn:
        removed = await inbox.prune_handled(conn, 0, timedelta(days=30), batch=2)
    async with db.connect() as conn:
        left = set((await conn.execute(text("SELECT dedupe_key FROM inbox"))).scalars())
    assert removed == 5
    assert left == {"old-pending", "young", "other-shard", "shard-1-old"}

    async with db.begin() as conn:
        again = await _store(conn, ["young", "old-pending", "old-0"])
    assert [row["dedupe_key"] for row in again] == ["old-0"], "within the retention a key is stored once"
