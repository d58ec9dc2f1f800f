"""A gas emergency is one wherever in the conversation it is reported (SR-04, SR-08): a messenger chat
(Telegram, through its sandbox Bot API server; Viber takes the same path) opened with "Дякую!" (the
chatbot answers) becomes an emergency ticket when the client writes "Пахне газом у
під'їзді": the bot gives its safety advice (call 104) at once and hands over as urgent; category, type and priority raised, the 2-minute SLA policy in force, handed to agents by the
gas emergency route, each step a ticket event and the supervisors told live; writing it again changes
nothing.  An agent raising a ticket's priority re-picks its SLA policy (SR-08)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text

from actors import messages as m
from actors.runtime import ActorRef
from channels.base import Address, Inbound
from channels.sandbox.telegram.state import SandboxUser
from tests.support.engine import eventually
from tests.support.telegram_engine import engine_with_telegram


@pytest.fixture
async def local(fresh_db_url):
    async with engine_with_telegram(fresh_db_url) as (engine, sandbox):
        engine.sandbox = sandbox
        yield engine


async def ticket_of(services, thread_key):
    async with services.db.connect() as conn:
        return (await conn.execute(text(
            "SELECT t.*, c.routing_state FROM tickets t JOIN conversations c ON c.id = t.conversation_id"
            " WHERE c.thread_key = :k"), {"k": thread_key})).mappings().first()


async def events_of(services, ticket_id):
    async with services.db.connect() as conn:
        return (await conn.execute(text("SELECT author, kind, data FROM ticket_events WHERE ticket_id = :t"
                                        " ORDER BY id"), {"t": ticket_id})).all()


async def messages_in(services, ticket_id) -> int:
    async with services.db.connect() as conn:
        return (await conn.execute(text("SELECT count(*) FROM messages WHERE ticket_id = :t AND direction = 'in'"),
                                   {"t": ticket_id})).scalar()


async def test_a_gas_smell_in_a_later_message_makes_the_chat_an_emergency(local):
    services, sandbox = local.services, local.sandbox
    user = SandboxUser(id=380_000_104, first_name="Оксана")
    thread = f"telegram:{user.id}"
    sandbox.user_sends_text(user, "Дякую!")

    first = await eventually(lambda: ticket_of(services, thread))
    await eventually(lambda: _true(sandbox.sent_to(user)))  # the bot answered
    view = await services.system.ask(ActorRef("conversation", thread), m.GetConversation())
    assert view["conversation"]["routing_state"] == "bot"
    assert (first["category"], first["type"], first["priority"], first["sla_policy"]) == \
        ("general.question", "request", "normal", "standard")

    seq = local.hub.seq
    sandbox.user_sends_text(user, "Пахне газом у під'їзді")

    async def emergency():
        ticket = await ticket_of(services, thread)
        return ticket if ticket["priority"] == "urgent" and ticket["routing_state"] == "queued" else None

    ticket = await eventually(emergency)
    assert (ticket["category"], ticket["type"], ticket["sla_policy"]) == ("emergency.gas_leak", "emergency", "emergency")
    assert ticket["first_response_due"] - ticket["created_at"] <= timedelta(minutes=2, seconds=1)
    events = await events_of(services, ticket["id"])
    kinds = [kind for _, kind, _ in events]
    assert "reclassified" in kinds and "sla_policy_changed" in kinds and "queued" in kinds
    # the bot answers first, with the safety advice, and hands over as urgent; the classifier makes it an emergency
    handover = next(data for author, kind, data in events if kind == "bot_handover")
    assert handover == {"reason": "gas_leak", "urgent": True}
    assert kinds.index("bot_handover") < kinds.index("reclassified")
    assert any("104" in m["text"] for m in sandbox.sent_to(user)[1:])
    change = next((author, data) for author, kind, data in events if kind == "reclassified")
    assert change == ("classifier", {"before": {"category": "general.question", "type": "request"},
                                     "after": {"category": "emergency.gas_leak", "type": "emergency"},
                                     "rule": "gas leak"})
    policy = next(data for _, kind, data in events if kind == "sla_policy_changed")
    assert (policy["before"], policy["after"]) == ("standard", "emergency")
    queued = next(data for _, kind, data in events if kind == "queued")
    assert queued["filter"] == "gas emergencies" and queued["priority"] == "urgent"

    async def supervisors_told():
        return [e for e in local.hub.ring if e["seq"] > seq and e["type"] == "escalation"
                and e["state"]["ticket"] == ticket["number"]]

    told = await eventually(supervisors_told)
    assert told[0]["state"]["kind"] == "raised" and told[0]["state"]["category"] == "emergency.gas_leak"

    sandbox.user_sends_text(user, "Пахне газом у під'їзді")
    await eventually(lambda: _count(messages_in(services, ticket["id"]), 3))
    again = await events_of(services, ticket["id"])
    assert [kind for _, kind, _ in again].count("reclassified") == 1


async def _true(value) -> bool:
    return bool(value)


async def _count(awaitable, wanted: int) -> bool:
    return await awaitable >= wanted


async def test_an_agents_priority_change_re_picks_the_sla_policy(local):
    services = local.services
    item = Inbound(channel="webchat", thread_key=f"webchat:site:{uuid.uuid4().hex[:8]}", dedupe_key=uuid.uuid4().hex,
                   sender=Address("web", "visitor"), text="Питання щодо договору")
    await services.inbox.store(item)
    ticket = await eventually(lambda: ticket_of(services, item.thread_key))
    assert ticket["sla_policy"] == "standard"
    result = await services.system.ask(ActorRef("conversation", item.thread_key),
                                       m.Reclassify("agent:7", priority="high"))
    assert result["sla_policy"] == "high"
    after = await ticket_of(services, item.thread_key)
    assert after["priority"] == "high" and after["sla_policy"] == "high"
    assert after["first_response_due"] < ticket["first_response_due"]
    view = await services.system.ask(ActorRef("conversation", item.thread_key), m.GetConversation())
    assert view["sla"]["policy"] == "high"
    kinds = [(author, kind) for author, kind, _ in await events_of(services, ticket["id"])]
    assert ("agent:7", "reclassified") in kinds and ("agent:7", "sla_policy_changed") in kinds
