"""Nothing poisons the AMI stream (issue 14, part 2): the events of a call the store keeps refusing are
parked after bounded attempts, so that call's line moves on and the calls around it are stored whole."""

from __future__ import annotations

import asyncio

import pytest

from actors.system import LocalEngine
from channels.sandbox.pbx import AmiServer
from tests.support.channels import channel_table
from tests.support.engine import eventually
from tests.support.poison import inbox_items, parked_rows, refuse_marked_items

REFUSED_CALLER = "0679990000"


@pytest.fixture
async def voice_engine(fresh_db_url):
    pbx = AmiServer()
    await pbx.start()
    local = LocalEngine(fresh_db_url, channels={"voice": channel_table("voice", port=pbx.port, mode="observe")})
    services = await local.start()
    await pbx.wait_for_login()
    yield services, pbx, local
    await local.stop()
    await pbx.stop()


async def test_a_call_whose_events_the_store_refuses_is_parked_and_the_calls_around_it_are_stored(voice_engine):
    services, pbx, local = voice_engine
    await refuse_marked_items(services.db, marker=REFUSED_CALLER[1:])
    calls = []
    for caller in ("0671112233", REFUSED_CALLER, "0501234567"):
        calls.append(await pbx.play("answered", caller=caller, agent="1001", wait=0.1, ring=0.1, talk=0.2))
    first, refused, last = (f"voice:{linkedid}" for linkedid in calls)
    await eventually(lambda: _hung_up(services, last), timeout_s=30)
    await asyncio.wait_for(local.channels["voice"].channel.drain(), 10)  # nothing left retrying
    threads = {payload["thread_key"] for payload in (await inbox_items(services.db)).values()}
    assert first in threads and last in threads and refused not in threads
    parked = await parked_rows(services.db)
    assert parked and {p["channel"] for p in parked} == {"voice"} and {p["form"] for p in parked} == {"inbound"}
    assert all(refused.encode() in bytes(p["raw"]) for p in parked)
    assert any(b'"hangup"' in bytes(p["raw"]) for p in parked)


async def _hung_up(services, thread: str) -> bool:
    return any(p["thread_key"] == thread and p["metadata"].get("call_event") == "hangup"
               for p in (await inbox_items(services.db)).values())
