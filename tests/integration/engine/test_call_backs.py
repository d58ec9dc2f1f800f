"""Abandoned calls are work: an inbound call that hung up before an agent answered -- in observe mode
(VICIdial routed it) or in route mode (it waited in our queue) -- becomes a call-back ticket in the
call-back queue with its own SLA policy and the caller's number, offered to an agent who calls back.
An unanswered call of our own makes no call-back."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import text

from actors import messages as m
from actors.runtime import ActorRef
from channels.base import Address, Inbound
from crm_core import reports
from crm_core.tickets_query import TicketFilter
from tests.support.engine import add_agent, eventually

CALLER = "+380671112299"


def call_event(linkedid: str, event: str, mode: str, **metadata) -> Inbound:
    return Inbound(channel="voice", kind="call_event", thread_key=f"voice:{linkedid}",
                   dedupe_key=f"voice:{linkedid}:{event}", sender=Address("phone", CALLER),
                   metadata={"call_event": event, "linkedid": linkedid, "caller": CALLER, "mode": mode,
                             "direction": "inbound", **metadata})


async def ticket_of(services, linkedid: str) -> dict | None:
    async with services.db.connect() as conn:
        row = (await conn.execute(text(
            "SELECT t.id, t.type, t.queue, t.sla_policy, t.first_response_due, t.attributes, c.routing_state"
            " FROM tickets t JOIN conversations c ON c.id = t.conversation_id WHERE c.thread_key = :k"),
            {"k": f"voice:{linkedid}"})).mappings().first()
    return dict(row) if row else None


async def call_back_of(services, linkedid: str) -> dict | None:
    ticket = await ticket_of(services, linkedid)
    return ticket if ticket and ticket["queue"] == "callback" and ticket["routing_state"] == "queued" else None


async def abandon(services, mode: str, **hangup) -> str:
    linkedid = uuid.uuid4().hex[:12]
    await services.inbox.store(call_event(linkedid, "started", mode))
    await eventually(lambda: ticket_of(services, linkedid))
    await services.inbox.store(call_event(linkedid, "queued", mode, queue="ingroup_kyiv"))
    await services.inbox.store(call_event(linkedid, "hangup", mode, abandoned=True, abandoned_in_queue=True,
                                          wait_seconds=48, hangup_cause="16", **hangup))
    return linkedid


async def test_a_call_abandoned_in_observe_mode_becomes_a_call_back_with_its_sla(engine):
    linkedid = await abandon(engine, "observe")
    ticket = await eventually(lambda: call_back_of(engine, linkedid))
    assert ticket["type"] == "callback" and ticket["sla_policy"] == "callback"
    assert ticket["first_response_due"] is not None
    call_back = ticket["attributes"]["call_back"]
    assert call_back["number"] == CALLER and call_back["wait_seconds"] == 48 and call_back["in_queue"]
    async with engine.db.connect() as conn:
        kinds = (await conn.execute(text("SELECT kind FROM ticket_events WHERE ticket_id = :t ORDER BY id"),
                                    {"t": ticket["id"]})).scalars().all()
    assert "call_back" in kinds and kinds.index("call_back") < len(kinds) - 1  # then queued for an agent

    agent = ActorRef("agent", str(await add_agent(engine, "cb-olena", queues=("general", "callback"))))
    await engine.system.ask(agent, m.SetAgentState("available"))

    async def offered():
        offers = (await engine.system.ask(agent, m.GetAgent()))["offers"]
        return next((o for o in offers if o["conversation"] == f"voice:{linkedid}"), None)

    offer = await eventually(offered)
    assert offer["queue"] == "callback"
    view = await engine.system.ask(agent, m.AcceptOffer(offer["offer_id"]))
    assert view["ticket"]["number"]
    assert (await ticket_of(engine, linkedid))["routing_state"] == "assigned"


async def test_a_call_abandoned_while_waiting_in_our_queue_in_route_mode_leaves_it_as_abandoned(engine):
    linkedid = await abandon(engine, "route")
    ticket = await eventually(lambda: call_back_of(engine, linkedid))
    assert ticket["type"] == "callback"

    async def counted():
        queues = [await engine.system.ask(ActorRef("queue", q), m.GetQueue()) for q in ("general", "callback")]
        general, callback = queues
        done = general["stats"]["abandoned"] == 1 and callback["waiting_count"] == 1
        return queues if done else None

    assert await eventually(counted)


async def test_an_unanswered_call_of_our_own_makes_no_call_back(engine):
    linkedid = uuid.uuid4().hex[:12]
    await engine.inbox.store(call_event(linkedid, "started", "observe", direction="outbound"))
    await eventually(lambda: ticket_of(engine, linkedid))
    await engine.inbox.store(call_event(linkedid, "hangup", "observe", direction="outbound", abandoned=True))

    async def hung_up():
        ticket = await ticket_of(engine, linkedid)
        return ticket if ticket["attributes"]["call"].get("state") == "hangup" else None

    ticket = await eventually(hung_up)
    assert ticket["type"] != "callback" and ticket["queue"] != "callback"


async def test_a_call_answered_in_vicidial_records_how_long_the_caller_waited(engine):
    agent_id = await add_agent(engine, "asa-taras")
    async with engine.db.begin() as conn:
        await conn.execute(text("UPDATE users SET extension = '1077' WHERE id = :i"), {"i": agent_id})
    linkedid = uuid.uuid4().hex[:12]
    started = call_event(linkedid, "started", "observe")
    await engine.inbox.store(started)
    await eventually(lambda: ticket_of(engine, linkedid))
    answered = replace(call_event(linkedid, "answered", "observe", agent="1077"),
                       occurred_at=started.occurred_at + timedelta(seconds=14))
    await engine.inbox.store(answered)

    async def waited():
        async with engine.db.connect() as conn:
            return (await conn.execute(text(
                "SELECT t.waited_s FROM tickets t JOIN conversations c ON c.id = t.conversation_id"
                " WHERE c.thread_key = :k"), {"k": f"voice:{linkedid}"})).scalar()

    assert 10 <= await eventually(waited) <= 20
    async with engine.db.connect() as conn:
        summary = await reports.summary(conn, TicketFilter(channels=("voice",)),
                                        started.occurred_at - timedelta(minutes=1),
                                        started.occurred_at + timedelta(minutes=1))
    assert summary["asa_s"] is not None  # the voice report said ASA "—"
