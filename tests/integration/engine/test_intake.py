"""The intake in front of the inbox (issue 14, part 2): an item PostgreSQL refuses is tried a bounded
number of times, then parked with its raw payload and the driver's error, and the item is answered as
taken; an outage of the store is no fault of the item: it goes back to the channel and nothing is parked;
parking the same item again (a channel that restarted before it moved on) keeps one row."""

from __future__ import annotations

import json

import pytest

from actors.inbox import InboxWriter
from actors.intake import Intake, is_outage
from channels.base import Address, Inbound
from crm_core.database import async_engine
from crm_core.driver_sql import AutocommitPool
from tests.support.poison import inbox_items, parked_rows

CLOSED_PORT_URL = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"


def item(n: int, thread: str | None = None) -> Inbound:
    return Inbound(channel="app", thread_key=thread or f"app:test:{n}", dedupe_key=f"intake-{n}",
                   sender=Address("app", f"device-{n}"), text=f"Звернення {n}")


async def test_an_item_the_database_refuses_is_parked_after_bounded_attempts_and_the_rest_is_stored(engine):
    too_long = item(2, thread="app:" + "т" * 300)  # the thread key column holds 255 characters
    taken = [await engine.inbox.intake.take(i) for i in (item(1), too_long, item(3))]
    assert [t.inbox_id is not None for t in taken] == [True, False, True]
    assert taken[1].parked_id is not None and not taken[1].duplicate
    assert set(await inbox_items(engine.db)) == {"intake-1", "intake-3"}
    [parked] = await parked_rows(engine.db)
    assert (parked["channel"], parked["item_key"], parked["form"], parked["attempts"]) == (
        "app", "intake-2", "inbound", 3)
    assert parked["error"].startswith("StringDataRightTruncation") and "SELECT" not in parked["error"]
    assert json.loads(bytes(parked["raw"]))["thread_key"] == too_long.thread_key

    again = await engine.inbox.intake.take(too_long)
    assert again.parked_id == taken[1].parked_id
    [parked] = await parked_rows(engine.db)
    assert parked["attempts"] == 6


async def test_an_outage_of_the_store_goes_back_to_the_channel_and_parks_nothing(engine):
    away = async_engine(CLOSED_PORT_URL)
    writer = InboxWriter(away, engine.system, AutocommitPool(away, wait_s=0.5))
    try:
        with pytest.raises(Exception) as raised:
            await Intake(writer.store, engine.db).take(item(1))
        assert is_outage(raised.value)
    finally:
        await writer.autocommit.close()
        await away.dispose()
    assert await parked_rows(engine.db) == []
