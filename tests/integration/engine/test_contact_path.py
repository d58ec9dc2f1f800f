"""One contact's path through the in-process engine: inbox -> ticket -> queue -> offer -> agent."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text

from actors import messages as m
from actors.runtime import ActorRef
from channels.base import Address, Inbound
from routing.ticket_lifecycle import TransitionRefused
from tests.support.engine import add_agent, add_client, eventually


def web_inbound(thread: str, text_: str, phone: str | None = None, dedupe: str | None = None) -> Inbound:
    sender = Address("phone", phone) if phone else Address("web", f"visitor-{thread}")
    return Inbound(channel="webchat", thread_key=f"webchat:site:{thread}", dedupe_key=dedupe or uuid.uuid4().hex,
                   sender=sender, text=text_)


async def ticket_of(services, thread_key):
    async with services.db.connect() as conn:
        return (await conn.execute(text(
            "SELECT t.* FROM tickets t JOIN conversations c ON c.id = t.conversation_id"
            " WHERE c.thread_key = :k"), {"k": thread_key})).mappings().first()


async def test_identified_contact_becomes_a_classified_ticket_offered_to_an_agent(engine):
    client = await add_client(engine, "Шевченко Олена Петрівна", "+380671234567", segment="vip")
    agent = await add_agent(engine, "olena")
    agent_ref = ActorRef("agent", str(agent))
    await engine.system.ask(agent_ref, m.SetAgentState("available"))

    item = web_inbound("t1", "Доброго дня, не можу сплатити рахунок", phone="+380671234567")
    assert await engine.inbox.store(item) is not None

    ticket = await eventually(lambda: ticket_of(engine, item.thread_key))
    assert ticket["client_id"] == client and ticket["identified"]
    assert ticket["category"] == "billing.payment" and ticket["priority"] == "high"
    assert ticket["status"] == "new" and ticket["first_response_due"] is not None

    _, offer = await eventually(lambda: _offer_for(engine, (agent,), item.thread_key))
    accepted = await engine.system.ask(agent_ref, m.AcceptOffer(offer["offer_id"]))
    assert accepted["ticket"]["status"] == "in_progress" and accepted["ticket"]["agent_id"] == agent
    assert accepted["messages"][0]["text"] == item.text

    conversation = ActorRef("conversation", item.thread_key)
    reply = await engine.system.ask(conversation, m.Reply(agent, "Вітаю! Допоможу.", "r-1"))
    again = await engine.system.ask(conversation, m.Reply(agent, "Вітаю! Допоможу.", "r-1"))
    assert reply["duplicate"] is False and again["duplicate"] is True
    await engine.system.ask(conversation, m.ChangeStatus(f"agent:{agent}", "resolved"))
    with pytest.raises(TransitionRefused):
        await engine.system.ask(conversation, m.ChangeStatus(f"agent:{agent}", "new"))
    await engine.system.ask(conversation, m.ChangeStatus(f"agent:{agent}", "closed"))

    async with engine.db.connect() as conn:
        events = (await conn.execute(text("SELECT kind FROM ticket_events WHERE ticket_id = :t ORDER BY id"),
                                     {"t": ticket["id"]})).scalars().all()
        final = (await conn.execute(text("SELECT status, first_response_at FROM tickets WHERE id = :t"),
                                    {"t": ticket["id"]})).first()
    assert events[:3] == ["created", "classified", "queued"]
    assert {"assigned", "first_response", "status"} <= set(events)
    assert final.status == "closed" and final.first_response_at is not None
    agent_view = await engine.system.ask(agent_ref, m.GetAgent())
    assert agent_view["conversations"] == []


async def test_same_inbound_twice_makes_one_ticket_and_one_message(engine):
    item = web_inbound("dup", "Привіт", dedupe="same-key")
    first = await engine.inbox.store(item)
    second = await engine.inbox.store(item)
    assert first is not None and second is None
    # Deliver the stored item to the conversation again, as the inbox sweeper would after a crash.
    from channels.serialization import inbound_to_json

    await engine.system.ask(ActorRef("conversation", item.thread_key), m.InboxDelivery(first, inbound_to_json(item)))
    await eventually(lambda: ticket_of(engine, item.thread_key))
    async with engine.db.connect() as conn:
        tickets = (await conn.execute(text("SELECT count(*) FROM tickets t JOIN conversations c"
                                           " ON c.id = t.conversation_id WHERE c.thread_key = :k"),
                                      {"k": item.thread_key})).scalar()
        messages = (await conn.execute(text("SELECT count(*) FROM messages WHERE dedupe_key = 'same-key'"))).scalar()
    assert tickets == 1 and messages == 1


async def test_anonymous_contact_and_repeat_contacts_are_linked(engine):
    anonymous = web_inbound("anon", "Питання щодо тарифу")
    await engine.inbox.store(anonymous)
    ticket = await eventually(lambda: ticket_of(engine, anonymous.thread_key))
    assert ticket["client_id"] is None and not ticket["identified"]

    await add_client(engine, "Коваленко Іван Степанович", "+380501112233")
    first = web_inbound("rep1", "Запах газу у під'їзді!", phone="+380501112233")
    await engine.inbox.store(first)
    earlier = await eventually(lambda: ticket_of(engine, first.thread_key))
    assert earlier["category"] == "emergency.gas_leak" and earlier["priority"] == "urgent"
    second = web_inbound("rep2", "Ще раз щодо витоку", phone="+380501112233")
    await engine.inbox.store(second)
    later = await eventually(lambda: ticket_of(engine, second.thread_key))
    async with engine.db.connect() as conn:
        links = (await conn.execute(text("SELECT related_ticket_id FROM ticket_links WHERE ticket_id = :t"
                                         " AND kind = 'repeat'"), {"t": later["id"]})).scalars().all()
        events = (await conn.execute(text("SELECT kind, data FROM ticket_events WHERE ticket_id = :t ORDER BY id"),
                                     {"t": later["id"]})).all()
    assert links == [earlier["id"]]
    assert [kind for kind, _ in events][:4] == ["created", "classified", "repeat_contact", "queued"]
    assert events[2][1] == {"previous": [earlier["number"]]}


async def test_offer_timeout_moves_to_the_next_agent(engine):
    first = await add_agent(engine, "a1")
    second = await add_agent(engine, "a2")
    for agent in (first, second):
        await engine.system.ask(ActorRef("agent", str(agent)), m.SetAgentState("available"))
    item = web_inbound("timeout", "Допоможіть")
    await engine.inbox.store(item)
    holder, offer = await eventually(lambda: _offer_for(engine, (first, second), item.thread_key))
    await engine.system.ask(ActorRef("agent", str(holder)), m.RejectOffer(offer["offer_id"]))
    other = second if holder == first else first
    again = await eventually(lambda: _offer_for(engine, (other,), item.thread_key))
    assert again[0] == other


async def _offer_for(services, agents, thread_key):
    """The agent holding an offer of this conversation, and the offer."""
    for agent in agents:
        view = await services.system.ask(ActorRef("agent", str(agent)), m.GetAgent())
        for offer in view["offers"]:
            if offer["conversation"] == thread_key:
                return agent, offer
    await asyncio.sleep(0)
    return None
