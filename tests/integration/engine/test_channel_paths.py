"""Channels through the in-process engine, against the sandbox peers over real sockets: a Telegram chat
answered by the chatbot and handed over to an agent; a VICIdial call whose caller's card pops on the
ringing agent's desktop and whose ticket follows the call to hang-up."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from actors import messages as m
from actors.runtime import ActorRef
from actors.system import LocalEngine
from channels.sandbox.pbx import AmiServer
from channels.sandbox.telegram.state import SandboxUser
from tests.support.channels import channel_table
from tests.support.engine import add_agent, add_client, eventually
from tests.support.teardown import bounded
from tests.support.telegram_engine import engine_with_telegram


async def ticket_of(services, thread_key):
    async with services.db.connect() as conn:
        return (await conn.execute(text(
            "SELECT t.* FROM tickets t JOIN conversations c ON c.id = t.conversation_id"
            " WHERE c.thread_key = :k"), {"k": thread_key})).mappings().first()


@pytest.fixture
async def telegram_engine(fresh_db_url):
    async with engine_with_telegram(fresh_db_url) as (local, sandbox):
        yield local.services, sandbox


async def test_telegram_chat_is_answered_by_the_bot_then_handed_over_with_its_transcript(telegram_engine):
    services, sandbox = telegram_engine
    agent = await add_agent(services, "tg-agent")
    await services.system.ask(ActorRef("agent", str(agent)), m.SetAgentState("available"))
    user = SandboxUser(id=380_000_777, first_name="Олена")
    sandbox.user_sends_text(user, "Доброго дня")
    thread = f"telegram:{user.id}"
    ticket = await eventually(lambda: ticket_of(services, thread))
    assert ticket["channel"] == "telegram" and ticket["status"] == "new"
    await eventually(lambda: _async(sandbox.sent_to(user)))  # the bot answered with its menu
    view = await services.system.ask(ActorRef("conversation", thread), m.GetConversation())
    assert view["conversation"]["routing_state"] == "bot"

    sandbox.user_sends_text(user, "Покличте оператора, будь ласка")
    conversation = await eventually(lambda: _routed(services, thread))
    assert conversation["routing_state"] in ("queued", "offered")
    view = await services.system.ask(ActorRef("conversation", thread), m.GetConversation())
    notes = [msg["text"] for msg in view["messages"] if msg["direction"] == "note"]
    assert notes and "Доброго дня" in notes[0]
    assert any(msg["direction"] == "bot" for msg in view["messages"])

    offer = await eventually(lambda: _offer(services, agent))
    await services.system.ask(ActorRef("agent", str(agent)), m.AcceptOffer(offer["offer_id"]))
    before = len(sandbox.sent_to(user))
    await services.system.ask(ActorRef("conversation", thread), m.Reply(agent, "Вітаю, я оператор Олег.", "tg-r1"))
    assert len(sandbox.sent_to(user)) == before + 1
    assert sandbox.sent_to(user)[-1]["text"] == "Вітаю, я оператор Олег."


async def _async(value):
    return value


async def _routed(services, thread):
    view = await services.system.ask(ActorRef("conversation", thread), m.GetConversation())
    return view["conversation"] if view["conversation"]["routing_state"] != "bot" else None


async def _offer(services, agent):
    view = await services.system.ask(ActorRef("agent", str(agent)), m.GetAgent())
    return view["offers"][0] if view["offers"] else None


@pytest.fixture
async def voice_engine(fresh_db_url):
    pbx = AmiServer()
    await pbx.start()
    local = LocalEngine(fresh_db_url, channels={"voice": channel_table("voice", port=pbx.port, mode="observe")})
    services = await local.start()
    await pbx.wait_for_login()
    yield services, pbx, local
    await bounded(local.stop(), "engine stop")
    await bounded(pbx.stop(), "pbx sandbox stop")


async def test_call_pops_the_card_on_the_ringing_agent_and_its_ticket_follows_the_call(voice_engine):
    services, pbx, local = voice_engine
    client = await add_client(services, "Гнатюк Василь Іванович", "+380671112233")
    async with services.db.begin() as conn:
        agent = await add_agent(services, "voice-agent")
        await conn.execute(text("UPDATE users SET extension = '1001' WHERE id = :i"), {"i": agent})
    seq = local.hub.seq
    linkedid = await pbx.play("answered", caller="0671112233", agent="1001", wait=0.2, ring=0.3, talk=0.5)
    thread = f"voice:{linkedid}"
    ticket = await eventually(lambda: _hung_up(services, thread), timeout_s=20)
    assert ticket["channel"] == "voice" and ticket["client_id"] == client
    call = ticket["attributes"]["call"]
    assert call["state"] == "hangup" and call["abandoned"] is False and call["talk_seconds"] >= 0
    assert ticket["agent_id"] == agent
    pops = [e for e in local.hub.ring if e["seq"] > seq and e["type"] == "screen_pop" and e["id"] == thread]
    assert pops and pops[0]["agent_id"] == agent
    assert pops[0]["state"]["card"]["client"]["full_name"] == "Гнатюк Василь Іванович"


async def _hung_up(services, thread):
    ticket = await ticket_of(services, thread)
    if ticket and (ticket["attributes"].get("call") or {}).get("state") == "hangup":
        return ticket
    return None
