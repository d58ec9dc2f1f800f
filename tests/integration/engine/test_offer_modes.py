"""Offers an agent can take, on the in-process engine: one pending offer at a time whatever the
capacity, a preview of the first message on the offer, misses counted only for offers the desktop
displayed, and a queue in auto-accept mode handing conversations over without an offer to answer."""

from __future__ import annotations

import asyncio
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

CONFIG = Path(__file__).resolve().parents[3] / "config"

QUEUES = ("general", "billing", "technical", "vip")


def routing_toml(mode: str) -> str:
    """The shipped routing with short offers, one miss to a break and ``offer_mode`` on every queue."""
    shipped = (CONFIG / "routing.toml").read_text(encoding="utf-8")
    for line, short in (('offer_timeout = "20s"', "offer_timeout = 1.5"), ('offer_timeout = "15s"', ""),
                        ("max_missed_offers = 3", "max_missed_offers = 1"),
                        ("wrap_up = { voice = 30, chat = 0, email = 0 }", "wrap_up = { voice = 0 }")):
        assert line in shipped
        shipped = shipped.replace(line, short)
    return shipped.replace('\nstrategy = ', f'\noffer_mode = "{mode}"\nstrategy = ')


async def _engine(fresh_db_url, tmp_path, mode: str):
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    (config / "routing.toml").write_text(routing_toml(mode), encoding="utf-8")
    local = LocalEngine(fresh_db_url, config_dir=config)
    return local, await local.start()


@pytest.fixture
async def reserving(fresh_db_url, tmp_path):
    local, services = await _engine(fresh_db_url, tmp_path, "reserve")
    yield services
    await local.stop()


@pytest.fixture
async def ringing(fresh_db_url, tmp_path):
    local, services = await _engine(fresh_db_url, tmp_path, "ring_all")
    yield services
    await local.stop()


@pytest.fixture
async def auto_accepting(fresh_db_url, tmp_path):
    local, services = await _engine(fresh_db_url, tmp_path, "auto_accept")
    yield services
    await local.stop()


def chat(text_: str) -> Inbound:
    thread = uuid.uuid4().hex[:10]
    return Inbound(channel="webchat", thread_key=f"webchat:site:{thread}", dedupe_key=uuid.uuid4().hex,
                   sender=Address("web", f"visitor-{thread}"), text=text_)


async def available_agent(services, login: str) -> ActorRef:
    ref = ActorRef("agent", str(await add_agent(services, login, queues=QUEUES)))
    await services.system.ask(ref, m.SetAgentState("available"))
    return ref


async def view(services, ref: ActorRef) -> dict:
    return await services.system.ask(ref, m.GetAgent())


async def first_offer(services, ref: ActorRef) -> dict | None:
    offers = (await view(services, ref))["offers"]
    if not offers:
        await asyncio.sleep(0.02)
    return offers[0] if offers else None


async def test_one_pending_offer_at_a_time_with_a_preview_of_the_first_message(reserving):
    services = reserving
    olena = await available_agent(services, "pending-olena")
    items = [chat(f"Доброго дня, питання номер {n} щодо рахунку за газ") for n in range(3)]
    for item in items:
        await services.inbox.store(item)
    offer = await eventually(lambda: first_offer(services, olena))
    await asyncio.sleep(0.4)  # time enough for more offers, were they to be made
    assert len((await view(services, olena))["offers"]) == 1
    texts = {item.thread_key: item.text for item in items}
    assert offer["preview"] == texts[offer["conversation"]]
    taken = [offer["conversation"]]
    await services.system.ask(olena, m.AcceptOffer(offer["offer_id"]))
    for _ in range(2):  # capacity (3 chats) still lets the agent hold all of them, one offer after another
        offer = await eventually(lambda: first_offer(services, olena))
        assert len((await view(services, olena))["offers"]) == 1
        taken.append(offer["conversation"])
        await services.system.ask(olena, m.AcceptOffer(offer["offer_id"]))
    assert sorted((await view(services, olena))["conversations"]) == sorted(texts)
    assert sorted(taken) == sorted(texts)


async def test_only_an_offer_the_desktop_displayed_counts_as_missed(reserving):
    services = reserving
    taras = await available_agent(services, "shown-taras")
    await services.inbox.store(chat("Не надійшов рахунок"))
    unseen = await eventually(lambda: first_offer(services, taras))
    # Never displayed: it times out (1.5 s) without blame and goes on to the next agent.
    await eventually(lambda: _no_offer(services, taras))
    state = await view(services, taras)
    assert state["misses"] == 0 and state["state"] == "available"
    await services.inbox.store(chat("Ще одне питання"))
    shown = await eventually(lambda: _other_offer(services, taras, unseen["offer_id"]))
    assert await services.system.ask(taras, m.OfferShown(shown["offer_id"]))
    await eventually(lambda: _on_break(services, taras))  # displayed and left: one miss, max_missed_offers = 1
    state = await view(services, taras)
    assert state["reason"] == "missed_offers" and state["misses"] == 1


async def _no_offer(services, ref):
    await asyncio.sleep(0.05)
    return not (await view(services, ref))["offers"]


async def _other_offer(services, ref, offer_id):
    offer = await first_offer(services, ref)
    return offer if offer and offer["offer_id"] != offer_id else None


async def _on_break(services, ref):
    return (await view(services, ref))["state"] == "break"


async def test_an_auto_accept_queue_assigns_without_an_offer_to_answer(auto_accepting):
    services = auto_accepting
    maria = await available_agent(services, "auto-maria")
    item = chat("Хочу передати показники лічильника")
    await services.inbox.store(item)

    async def assigned():
        return item.thread_key in (await view(services, maria))["conversations"]

    assert await eventually(assigned)
    async with services.db.connect() as conn:
        kinds = (await conn.execute(text(
            "SELECT e.kind FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id"
            " JOIN conversations c ON c.id = t.conversation_id WHERE c.thread_key = :k ORDER BY e.id"),
            {"k": item.thread_key})).scalars().all()
    assert "assigned" in kinds
    assert (await view(services, maria))["misses"] == 0


async def test_a_ring_all_queue_rings_every_free_agent_and_the_first_accept_takes_it(ringing):
    services = ringing
    olena = await available_agent(services, "ring-olena")
    taras = await available_agent(services, "ring-taras")
    item = chat("Потрібна консультація щодо договору")
    await services.inbox.store(item)

    async def both_rung():
        offers = [await first_offer(services, ref) for ref in (olena, taras)]
        return offers if all(offers) else None

    olena_offer, taras_offer = await eventually(both_rung)
    assert olena_offer["conversation"] == taras_offer["conversation"] == item.thread_key
    await services.system.ask(taras, m.AcceptOffer(taras_offer["offer_id"]))
    assert item.thread_key in (await view(services, taras))["conversations"]
    await eventually(lambda: _no_offer(services, olena))  # withdrawn, without blame
    state = await view(services, olena)
    assert state["misses"] == 0 and state["state"] == "available"
    with pytest.raises(LookupError):
        await services.system.ask(olena, m.AcceptOffer(olena_offer["offer_id"]))
