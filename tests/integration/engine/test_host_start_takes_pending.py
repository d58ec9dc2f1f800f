"""A host that starts (after its process was killed, say) takes at once the inbox items its predecessor
left unhandled, rather than after ``redeliver_after_s``: contacts accepted during a host's restart get
their ticket within seconds of it being back (the fault benchmark saw p50 11-30 s after a host kill)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from actors.inbox import InboxWriter
from actors.runtime import ActorSystem
from actors.settings import Settings
from actors.system import LocalEngine
from channels.base import Address, Inbound
from crm_core.database import async_engine
from crm_core.driver_sql import AutocommitPool
from tests.support.engine import eventually
from tests.support.teardown import bounded

pytestmark = pytest.mark.integration
CONFIG = Path(__file__).resolve().parents[3] / "config"
REDELIVER_AFTER_S = 120.0  # far beyond the wait below: only a pick-up at start can make it
CONTACTS = 20


@pytest.fixture
def slow_redelivery_config(tmp_path):
    directory = tmp_path / "config"
    shutil.copytree(CONFIG, directory)
    engine_toml = directory / "engine.toml"
    before = engine_toml.read_text(encoding="utf-8")
    assert "redeliver_after_s = 3.0" in before
    engine_toml.write_text(before.replace("redeliver_after_s = 3.0", f"redeliver_after_s = {REDELIVER_AFTER_S}"),
                           encoding="utf-8")
    return directory


async def test_items_stored_while_no_host_ran_are_taken_when_the_host_starts(fresh_db_url, slow_redelivery_config):
    run = uuid.uuid4().hex[:8]
    db = async_engine(fresh_db_url, pool_size=1)
    autocommit = AutocommitPool(db)
    # stored and announced while no host follows the inbox: the notices reach nobody
    inbox = InboxWriter(db, ActorSystem(Settings.load(slow_redelivery_config).engine.shards), autocommit)
    for n in range(CONTACTS):
        await inbox.store(Inbound(channel="app", thread_key=f"app:pending:{run}-{n}", dedupe_key=f"{run}-{n}",
                                  sender=Address("app", f"device-{n}"), text="Перевірте нарахування"))
    await autocommit.close()

    local = LocalEngine(fresh_db_url, config_dir=slow_redelivery_config)
    await local.start()
    try:
        async def all_ticketed() -> bool:
            async with db.connect() as conn:
                made = (await conn.execute(text(
                    "SELECT count(*) FROM tickets t JOIN conversations c ON c.id = t.conversation_id"
                    " WHERE c.thread_key LIKE :p"), {"p": f"app:pending:{run}-%"})).scalar()
            return made == CONTACTS

        await eventually(all_ticketed, timeout_s=REDELIVER_AFTER_S / 4)
    finally:
        await bounded(local.stop(), "engine stop")
        await db.dispose()
