"""Click-to-call over HTTP, end to end: the agent's desktop posts ``/api/v1/calls``, the gateway asks the
voice channel's call control (a typed role, no string dispatch) and the channel sends AMI Originate to the
sandbox PBX over a real socket: the agent's phone rings, the client is dialled, and the call's events
open its ticket.  A number that cannot be dialled is a clear localised 400; an agent without an extension
a 409."""

from __future__ import annotations

import uuid

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from actors.system import LocalEngine
from channels.sandbox.pbx import AmiServer
from crm_core import users
from dashboards.app import build_app
from tests.support.channels import channel_table
from tests.support.engine import add_client, eventually, open_for_logins

PASSWORD = "correct horse battery staple"
VOICE = channel_table("voice")


@pytest.fixture
async def desk(fresh_db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_DATA", str(tmp_path))
    pbx = AmiServer(time_scale=0.0)
    await pbx.start()
    local = LocalEngine(fresh_db_url, channels={"voice": {**VOICE, "port": pbx.port, "mode": "route"}})
    services = await local.start()
    await open_for_logins(services)
    await pbx.wait_for_login()
    client = TestClient(TestServer(build_app(services), host="127.0.0.1", port=0))
    await client.start_server()
    yield services, pbx, client
    await client.close()
    await local.stop()
    await pbx.stop()


async def login(services, client, extension: str | None) -> dict[str, str]:
    name = f"agent-{uuid.uuid4().hex[:8]}"
    async with services.db.begin() as conn:
        await users.create_user(conn, login=name, full_name="Тест оператор", role="cc_operator", password=PASSWORD,
                                queues={"names": ["general"]}, extension=extension)
    response = await client.post("/api/v1/auth/login", json={"login": name, "password": PASSWORD})
    assert response.status == 200, await response.text()
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


async def ticket_of(services, thread_key):
    async with services.db.connect() as conn:
        return (await conn.execute(text(
            "SELECT t.* FROM tickets t JOIN conversations c ON c.id = t.conversation_id WHERE c.thread_key = :k"),
            {"k": thread_key})).mappings().first()


async def test_click_to_call_rings_the_agent_and_dials_the_client_through_the_pbx(desk):
    services, pbx, client = desk
    await add_client(services, "Литвиненко Ганна Олексіївна", "+380671230099")
    headers = await login(services, client, "1007")
    response = await client.post("/api/v1/calls", json={"number": "+380 67 123 00 99"}, headers=headers)
    assert response.status == 202, await response.text()
    placed = await response.json()
    assert placed["placed"] is True and placed["thread"] == f"voice:{placed['call']}"
    originate = next(a for a in pbx.actions_seen if a.get("action", "").lower() == "originate")
    assert originate["channel"] == "PJSIP/1007" and originate["exten"] == "0671230099"
    assert originate["channelid"] == placed["call"]
    ticket = await eventually(lambda: ticket_of(services, placed["thread"]), timeout_s=20)
    assert ticket["channel"] == "voice"


async def test_a_number_that_cannot_be_dialled_and_an_agent_without_a_phone_are_refused(desk):
    services, pbx, client = desk
    headers = await login(services, client, "1008")
    response = await client.post("/api/v1/calls", json={"number": "газ"}, headers={**headers, "Accept-Language": "uk"})
    assert response.status == 400
    body = await response.json()
    assert body["error"] == "invalid_phone" and "Traceback" not in str(body)
    assert not [a for a in pbx.actions_seen if a.get("action", "").lower() == "originate"]
    no_phone = await login(services, client, None)
    response = await client.post("/api/v1/calls", json={"number": "0671230099"}, headers=no_phone)
    assert response.status == 409 and (await response.json())["error"] == "no_extension"
