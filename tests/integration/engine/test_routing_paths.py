"""Routing through the in-process engine with the routing package wired in: capacity per channel held by
the agent actor, offers rejected until a break, conversations returned by an agent going offline,
workflow skipping and widening, overflow, transfers with their reason, SLA breaches escalated on the
live stream.  Each test runs on a config directory of its own with short timeouts (seconds, not
minutes), so the durable reminders fire within the test."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from actors import messages as m
from actors.runtime import ActorRef
from actors.system import LocalEngine
from channels.base import Address, Inbound
from tests.support.engine import add_agent, eventually
from tests.support.teardown import bounded

CONFIG = Path(__file__).resolve().parents[3] / "config"

ROUTING = """
skills = ["billing", "gas_safety"]

[defaults]
offer_timeout = 3
max_missed_offers = 2
capacity = { voice = 1, chat = 2, email = 5 }
wrap_up = { voice = 0, chat = 1, email = 0 }

[queues.general]
department = "contact_centre"

[queues.technical]
department = "technical"
strategy = "best_skill"

[queues.billing]
department = "billing"
overflow = { to = "general", max_waiting = 1 }

[queues.vip]
department = "key_accounts"

[queues.escalations]
department = "supervisors"

[[workflow.filters]]
name = "gas"
when = 'category == "emergency.gas_leak"'

[[workflow.filters.targets]]
queue = "technical"
skills = { gas_safety = 4 }
priority = "urgent"
timeout = 1
skip_when_unstaffed = true

[[workflow.filters.targets]]
queue = "general"
priority = "urgent"

[[workflow.filters]]
name = "billing"
when = 'category == "billing.payment"'

[[workflow.filters.targets]]
queue = "billing"

[workflow.default]
targets = [{ queue = "general" }]
"""

SLA = """
[calendars.always]
time_zone = "Europe/Kyiv"

[calendars.always.hours]
mon = ["00:00-24:00"]
tue = ["00:00-24:00"]
wed = ["00:00-24:00"]
thu = ["00:00-24:00"]
fri = ["00:00-24:00"]
sat = ["00:00-24:00"]
sun = ["00:00-24:00"]

[[policies]]
name = "fast"
type = "complaint"
calendar = "always"
first_response = 1.5
resolution = 3600

[[policies]]
name = "standard"
calendar = "always"
first_response = 3600
resolution = 86400

[[escalations]]
name = "first response breached"
clock = "first_response"
at = "breach"

[[escalations.actions]]
action = "notify"
to = "supervisors"

[[escalations.actions]]
action = "raise_priority"
steps = 1

[[escalations.actions]]
action = "move_to_queue"
queue = "escalations"
"""


@pytest.fixture
async def routed(fresh_db_url, tmp_path):
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    (config / "routing.toml").write_text(ROUTING, encoding="utf-8")
    (config / "sla.toml").write_text(SLA, encoding="utf-8")
    local = LocalEngine(fresh_db_url, config_dir=config)
    services = await local.start()
    yield services, local
    await bounded(local.stop(), "engine stop")


def chat(text_: str) -> Inbound:
    thread = uuid.uuid4().hex[:10]
    return Inbound(channel="webchat", thread_key=f"webchat:site:{thread}", dedupe_key=uuid.uuid4().hex,
                   sender=Address("web", f"visitor-{thread}"), text=text_)


async def agent(services, login: str, queues=("general",), skills=None, capacity=None) -> ActorRef:
    agent_id = await add_agent(services, login, queues=queues, skills=skills)
    if capacity is not None:
        async with services.db.begin() as conn:
            await conn.execute(text("UPDATE users SET capacity = CAST(:c AS jsonb) WHERE id = :i"),
                               {"c": json.dumps(capacity), "i": agent_id})
    ref = ActorRef("agent", str(agent_id))
    await services.system.ask(ref, m.SetAgentState("available"))
    return ref


async def offers_of(services, ref: ActorRef) -> list[dict]:
    return (await services.system.ask(ref, m.GetAgent()))["offers"]


async def offer_of(services, ref: ActorRef, thread: str) -> dict | None:
    found = [o for o in await offers_of(services, ref) if o["conversation"] == thread]
    if not found:
        await asyncio.sleep(0.02)
    return found[0] if found else None


async def conversation(services, thread: str) -> dict:
    return await services.system.ask(ActorRef("conversation", thread), m.GetConversation())


async def events_of(services, thread: str) -> list[tuple[str, dict]]:
    async with services.db.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT e.kind, e.data FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id"
            " JOIN conversations c ON c.id = t.conversation_id WHERE c.thread_key = :k ORDER BY e.id"),
            {"k": thread})).all()
    return [(r.kind, r.data) for r in rows]


async def test_an_agent_is_never_offered_more_chats_than_capacity_and_wraps_up_between(routed):
    services, _ = routed
    olena = await agent(services, "cap-olena", capacity={"chat": 1})
    first, second = chat("Питання щодо тарифу"), chat("Ще одне питання")
    await services.inbox.store(first)
    await services.inbox.store(second)

    async def either():
        return await offer_of(services, olena, first.thread_key) or await offer_of(services, olena, second.thread_key)

    offer = await eventually(either)
    await asyncio.sleep(0.3)  # time enough for a second offer, were one to be made
    assert len(await offers_of(services, olena)) == 1
    await services.system.ask(olena, m.AcceptOffer(offer["offer_id"]))
    view = await services.system.ask(olena, m.GetAgent())
    assert view["state"] == "busy" and view["free"]["chat"] == 0 and view["offers"] == []
    other = second.thread_key if offer["conversation"] == first.thread_key else first.thread_key
    await services.system.ask(ActorRef("conversation", offer["conversation"]),
                              m.ChangeStatus("agent:1", "resolved"))
    assert await eventually(lambda: _state(services, olena, "wrap_up"))  # a second of after-chat work
    assert await eventually(lambda: offer_of(services, olena, other))  # then the next one comes


async def _state(services, ref, state):
    return (await services.system.ask(ref, m.GetAgent()))["state"] == state


async def test_misses_put_the_agent_on_break_and_offline_returns_conversations_with_their_wait(routed):
    services, _ = routed
    ivan = await agent(services, "miss-ivan")
    items = [chat("Допоможіть, будь ласка") for _ in range(2)]
    for item in items:
        await services.inbox.store(item)
    rejected = []
    for _ in items:  # one offer at a time, in the order the queue serves them
        offer = await eventually(lambda: _new_offer(services, ivan, rejected))
        await services.system.ask(ivan, m.RejectOffer(offer["offer_id"]))
        rejected.append(offer["conversation"])
    assert sorted(rejected) == sorted(item.thread_key for item in items)
    view = await services.system.ask(ivan, m.GetAgent())
    assert view["state"] == "break" and view["reason"] == "missed_offers" and view["misses"] == 2

    petro = await agent(services, "miss-petro")
    item = next(item for item in items if item.thread_key == rejected[0])
    offer = await eventually(lambda: offer_of(services, petro, item.thread_key))
    await services.system.ask(petro, m.AcceptOffer(offer["offer_id"]))
    before = (await conversation(services, item.thread_key))["conversation"]["state"]["enqueued_at"]
    await services.system.ask(petro, m.SetAgentState("offline"))
    back = await eventually(lambda: _waiting(services, item.thread_key))
    assert back["state"]["enqueued_at"] == before and back["agent_id"] is None
    assert ("requeued", "agent went offline") in [(k, d.get("reason")) for k, d in await events_of(services, item.thread_key)]
    await services.system.ask(ivan, m.SetAgentState("available"))  # back from the break: takes it
    assert await eventually(lambda: offer_of(services, ivan, item.thread_key))


async def _new_offer(services, ref, seen):
    offers = [o for o in await offers_of(services, ref) if o["conversation"] not in seen]
    if not offers:
        await asyncio.sleep(0.02)
    return offers[0] if offers else None


async def _waiting(services, thread):
    row = (await conversation(services, thread))["conversation"]
    return row if row["routing_state"] in ("queued", "offered") else None


async def test_unstaffed_target_is_skipped_and_a_waiting_one_widens(routed):
    services, _ = routed
    general = await agent(services, "wf-general", queues=("general",))
    gas = chat("Запах газу у під'їзді!")
    await services.inbox.store(gas)
    offer = await eventually(lambda: offer_of(services, general, gas.thread_key))  # technical skipped at once
    view = await conversation(services, gas.thread_key)
    assert view["conversation"]["queue"] == "general" and view["conversation"]["state"]["routing"]["priority"] == "urgent"
    await services.system.ask(general, m.AcceptOffer(offer["offer_id"]))

    expert = await agent(services, "wf-expert", queues=("technical",), skills={"gas_safety": 5})
    second = chat("Витік газу на кухні")
    await services.inbox.store(second)
    offer = await eventually(lambda: offer_of(services, expert, second.thread_key))
    assert (await conversation(services, second.thread_key))["conversation"]["queue"] == "technical"
    await services.system.ask(expert, m.RejectOffer(offer["offer_id"]))
    # Nobody else in technical: after the target's 1 s timeout it widens to general.
    await services.system.ask(general, m.SetAgentState("offline"))
    helper = await agent(services, "wf-helper", queues=("general",))
    assert await eventually(lambda: offer_of(services, helper, second.thread_key))
    kinds = [k for k, _ in await events_of(services, second.thread_key)]
    assert "widened" in kinds


async def test_full_queue_overflows_and_transfers_record_their_reason(routed):
    services, _ = routed
    first, second = chat("Не можу сплатити рахунок"), chat("Не можу сплатити рахунок знову")
    await services.inbox.store(first)
    await eventually(lambda: _in_queue(services, first.thread_key, "billing"))
    await services.inbox.store(second)
    await eventually(lambda: _in_queue(services, second.thread_key, "general"))  # billing holds one at most
    assert ("overflowed", "full") in [(k, d.get("reason")) for k, d in await events_of(services, second.thread_key)]

    moved = await services.system.ask(ActorRef("conversation", first.thread_key),
                                      m.Transfer("agent:7", "client is a legal entity", queue="key_accounts"))
    assert moved["conversation"]["queue"] == "vip"
    transfers = [d for k, d in await events_of(services, first.thread_key) if k == "transferred"]
    assert [(t["to"], t["target"], t["queue"], t["from_queue"], t["reason"]) for t in transfers] == [
        ("department", "key_accounts", "vip", "billing", "client is a legal entity")]
    billing = await services.system.ask(ActorRef("queue", "billing"), m.GetQueue())
    vip = await services.system.ask(ActorRef("queue", "vip"), m.GetQueue())
    assert billing["waiting_count"] == 0 and vip["waiting_count"] == 1
    with pytest.raises(ValueError):
        await services.system.ask(ActorRef("conversation", first.thread_key),
                                  m.Transfer("agent:7", "nowhere", queue="no-such-queue"))


async def _in_queue(services, thread, queue):
    row = (await conversation(services, thread))["conversation"] if await _exists(services, thread) else None
    return row if row and row["queue"] == queue and row["routing_state"] in ("queued", "offered") else None


async def _exists(services, thread):
    async with services.db.connect() as conn:
        return (await conn.execute(text("SELECT 1 FROM tickets t JOIN conversations c ON c.id = t.conversation_id"
                                        " WHERE c.thread_key = :k"), {"k": thread})).first() is not None


async def test_sla_breach_is_a_ticket_event_escalated_live_and_the_agent_sees_the_time_left(routed):
    services, local = routed
    item = chat("Доброго дня, це скарга на обслуговування")
    await services.inbox.store(item)
    await eventually(lambda: _in_queue(services, item.thread_key, "general"))
    view = await conversation(services, item.thread_key)
    clock = view["sla"]["clocks"]["first_response"]
    assert view["sla"]["policy"] == "fast" and clock["state"] == "running" and 0 < clock["remaining_s"] <= 1.5
    assert view["ticket"]["first_response_due"] is not None

    escalation = await eventually(lambda: _escalation(local, view["ticket"]["number"]))
    assert escalation["state"]["clock"] == "first_response" and escalation["state"]["kind"] == "breach"
    moved = await eventually(lambda: _in_queue(services, item.thread_key, "escalations"))
    assert moved["state"]["routing"]["priority"] == "urgent"  # a complaint is high; the breach raised it
    kinds = [k for k, _ in await events_of(services, item.thread_key)]
    assert "sla_breached" in kinds and "escalated" in kinds and "escalated_to_queue" in kinds
    after = await conversation(services, item.thread_key)
    assert after["ticket"]["priority"] == "urgent" and after["sla"]["breached"] == ["first_response"]
    assert after["sla"]["clocks"]["first_response"]["remaining_s"] <= 0


async def _escalation(local, number):
    found = [e for e in local.hub.ring if e["type"] == "escalation" and e["state"]["ticket"] == number]
    return found[0] if found else None


async def test_a_named_transfer_withdraws_the_open_offer_and_pins_the_conversation(routed):
    services, _ = routed
    anna = await agent(services, "named-anna")
    item = chat("Потрібна допомога з договором")
    await services.inbox.store(item)
    await eventually(lambda: offer_of(services, anna, item.thread_key))
    bohdan_id = await add_agent(services, "named-bohdan", queues=("technical",))
    view = await services.system.ask(ActorRef("conversation", item.thread_key),
                                     m.Transfer("agent:99", "asked for the meter expert", agent_id=bohdan_id))
    assert view["conversation"]["agent_id"] == bohdan_id and view["conversation"]["routing_state"] == "assigned"

    async def withdrawn():
        return not await offers_of(services, anna)

    assert await eventually(withdrawn)
    bohdan = await services.system.ask(ActorRef("agent", str(bohdan_id)), m.GetAgent())
    assert bohdan["conversations"] == [item.thread_key]
    general = await services.system.ask(ActorRef("queue", "general"), m.GetQueue())
    assert general["waiting_count"] == 0 and general["offers"] == 0
    transfers = [d for k, d in await events_of(services, item.thread_key) if k == "transferred"]
    assert transfers[0]["reason"] == "asked for the meter expert" and transfers[0]["target"] == bohdan_id
