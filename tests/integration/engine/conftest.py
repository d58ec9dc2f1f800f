"""An in-process engine (every host on a local transport) on a fresh database."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from actors.system import LocalEngine
from crm_core.database import sync_engine

ENGINE_TABLES = ("conversations", "tickets", "ticket_events", "ticket_links", "messages", "inbox", "reminders",
                 "agent_states", "users", "account_roles", "contact_points", "accounts", "clients")


def reset_tables(db_url: str) -> None:
    admin = sync_engine(db_url)
    with admin.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(ENGINE_TABLES)} RESTART IDENTITY CASCADE"))
    admin.dispose()


@pytest.fixture
async def engine(db_url):
    reset_tables(db_url)
    local = LocalEngine(db_url)
    services = await local.start()
    yield services
    await local.stop()
