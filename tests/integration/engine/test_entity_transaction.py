"""An entity's transaction: reminders written with ``conn=`` change with its state or not at all, and are
scheduled on the host's clock only once the transaction commits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from actors.runtime import ActorSystem, Entity
from actors.runtime.host import EntityHost, HostSettings
from actors.runtime.reminders import PgReminderStore
from crm_core.database import async_engine
from crm_core.driver_sql import AutocommitPool, execute
from crm_core.models import Reminder


class Recorder(Entity):
    kind = "recorder"

    async def receive(self, message):
        due = datetime.now(UTC) + timedelta(seconds=1)
        async with self.ctx.transaction(relaxed=True) as conn:
            await execute(conn, "SELECT 1")
            await self.ctx.set_reminder("wake", due, conn=conn)
            if message == "roll back":
                raise RuntimeError("the state write failed")
        return due


@pytest.fixture
async def host(fresh_db_url):
    engine = async_engine(fresh_db_url, pool_size=2)
    autocommit = AutocommitPool(engine)
    system = ActorSystem({"recorder": 1})
    recorder_host = EntityHost(HostSettings("recorder", 0, 1, reminder_poll_s=60), Recorder, system,
                               SimpleNamespace(db=engine, autocommit=autocommit, inbound_writes=autocommit),
                               PgReminderStore(autocommit))
    system.transport.add(recorder_host)
    yield recorder_host, engine
    recorder_host.clock.stop()
    await autocommit.close()
    await engine.dispose()


async def stored(engine, entity_id):
    async with engine.connect() as conn:
        return (await conn.execute(select(Reminder.due_at).where(Reminder.entity_id == entity_id))).scalar()


async def test_committed_transaction_stores_and_schedules_its_reminder(host):
    recorder_host, engine = host
    due = await recorder_host.ask("a", "commit")
    assert await stored(engine, "a") == due
    assert recorder_host.clock.pending == 1


async def test_rolled_back_transaction_leaves_no_reminder_stored_or_scheduled(host):
    recorder_host, engine = host
    with pytest.raises(RuntimeError):
        await recorder_host.ask("b", "roll back")
    assert await stored(engine, "b") is None
    assert recorder_host.clock.pending == 0


async def test_reminder_with_a_foreign_connection_is_refused(host):
    recorder_host, engine = host
    activation = recorder_host._activation("c")
    async with engine.begin() as foreign:
        with pytest.raises(ValueError, match="ctx.transaction"):
            await activation.entity.ctx.set_reminder("wake", datetime.now(UTC), conn=foreign)
