"""A call's events that reach its conversation together are written in one go: every one on the ticket,
in order, with its ticket event and the call attributes after them all; one delivered again among new
ones is neither doubled nor lets the new ones lose their mark on the call."""

from __future__ import annotations

import asyncio
import json
import uuid

from sqlalchemy import text

from actors import messages as m
from actors.runtime import ActorRef, Batch
from channels.base import Address, Inbound
from tests.support.engine import add_client, eventually


def call_event(linkedid: str, event: str, **metadata) -> Inbound:
    return Inbound(channel="voice", kind="call_event", thread_key=f"voice:{linkedid}",
                   dedupe_key=f"voice:{linkedid}:{event}", sender=Address("phone", "0671112299"),
                   metadata={"call_event": event, "linkedid": linkedid, "caller": "0671112299", "mode": "observe",
                             **metadata})


async def call_ticket(services, linkedid: str):
    async with services.db.connect() as conn:
        return (await conn.execute(text(
            "SELECT t.id, t.attributes FROM tickets t JOIN conversations c ON c.id = t.conversation_id"
            " WHERE c.thread_key = :k"), {"k": f"voice:{linkedid}"})).mappings().first()


async def ticket_history(services, ticket_id: int) -> tuple[list[str], list[str]]:
    async with services.db.connect() as conn:
        events = (await conn.execute(text(
            "SELECT kind FROM ticket_events WHERE ticket_id = :t AND kind LIKE 'call_%' ORDER BY id"),
            {"t": ticket_id})).scalars().all()
        messages = (await conn.execute(text(
            "SELECT text FROM messages WHERE ticket_id = :t ORDER BY id"), {"t": ticket_id})).scalars().all()
    return list(events), list(messages)


async def started_call(services) -> tuple[str, int]:
    linkedid = uuid.uuid4().hex[:12]
    await services.inbox.store(call_event(linkedid, "started"))
    ticket = await eventually(lambda: call_ticket(services, linkedid))
    return linkedid, ticket["id"]


async def test_events_stored_together_join_the_ticket_in_order(engine):
    await add_client(engine, "Бойко Олена", "+380671112299")
    linkedid, ticket_id = await started_call(engine)
    later = ["queued", "ringing", "answered", "hold", "unhold"]
    await asyncio.gather(*(engine.inbox.store(call_event(linkedid, e, queue="ingroup_kyiv")) for e in later))

    async def all_joined():
        ticket = await call_ticket(engine, linkedid)
        return ticket if ticket["attributes"]["call"]["state"] == "unhold" else None

    ticket = await eventually(all_joined)
    call = ticket["attributes"]["call"]
    assert [step["event"] for step in call["timeline"]] == ["started", *later]
    assert call["queue"] == "ingroup_kyiv"
    events, messages = await ticket_history(engine, ticket_id)
    assert events == [f"call_{e}" for e in ["started", *later]]
    assert messages == ["started", *later]
    async with engine.db.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM inbox WHERE thread_key = :k AND processed_at IS NULL"),
                                   {"k": f"voice:{linkedid}"})).scalar() == 0


async def test_an_event_delivered_again_among_new_ones_is_written_once(engine):
    linkedid, ticket_id = await started_call(engine)
    await engine.inbox.store(call_event(linkedid, "ringing", agent="1001"))
    await eventually(lambda: _state_is(engine, linkedid, "ringing"))
    for event in ("answered", "hangup"):
        await engine.inbox.store(call_event(linkedid, event))
    await eventually(lambda: _state_is(engine, linkedid, "hangup"))
    thread = f"voice:{linkedid}"
    await local_host(engine, thread).passivate(thread)
    lost = [f"{thread}:answered", f"{thread}:hangup"]
    async with engine.db.begin() as conn:  # the answer and hang-up are lost, as if the server crashed
        await conn.execute(text("DELETE FROM messages WHERE dedupe_key = ANY(:k)"), {"k": lost})
        await conn.execute(text("DELETE FROM ticket_events WHERE ticket_id = :t AND kind IN "
                                "('call_answered', 'call_hangup')"), {"t": ticket_id})
        attributes = (await call_ticket(engine, linkedid))["attributes"]
        attributes["call"]["timeline"] = attributes["call"]["timeline"][:2]
        attributes["call"]["state"] = "ringing"
        await conn.execute(text("UPDATE tickets SET attributes = CAST(:a AS jsonb) WHERE id = :t"),
                           {"a": json.dumps(attributes), "t": ticket_id})
        await conn.execute(text("UPDATE inbox SET processed_at = NULL WHERE dedupe_key = ANY(:k)"),
                           {"k": [f"{thread}:ringing", *lost]})
        rows = (await conn.execute(text("SELECT id, payload FROM inbox WHERE thread_key = :k ORDER BY id"),
                                   {"k": thread})).all()
    # the ringing (stored) reaches the conversation again, together with the two lost ones
    deliveries = tuple(m.InboxDelivery(inbox_id, payload) for inbox_id, payload in rows[1:])
    engine.system.tell(ActorRef("conversation", thread), Batch(deliveries))
    await eventually(lambda: _history_has(engine, ticket_id, "call_hangup"))
    events, messages = await ticket_history(engine, ticket_id)
    assert events == ["call_started", "call_ringing", "call_answered", "call_hangup"]
    assert messages == ["started", "ringing", "answered", "hangup"]
    ticket = await call_ticket(engine, linkedid)
    timeline = [step["event"] for step in ticket["attributes"]["call"]["timeline"]]
    assert timeline.count("ringing") == 1 and timeline[-1] == "hangup"


def local_host(services, thread: str):
    ref = ActorRef("conversation", thread)
    return services.system.transport.hosts[("conversation", services.system.shard(ref))]


async def _state_is(services, linkedid, state):
    ticket = await call_ticket(services, linkedid)
    return ticket is not None and ticket["attributes"]["call"]["state"] == state


async def _history_has(services, ticket_id, kind):
    events, _ = await ticket_history(services, ticket_id)
    return kind in events
