"""One web-chat contact through the HTTP API: the API channel stores it, the engine tickets and offers it,
the agent accepts, reads the card, replies, reclassifies, changes status and transfers; supervisors and
operators see what their roles allow; every change is in the audit log."""

from __future__ import annotations

import asyncio
import base64

from sqlalchemy import text

from tests.support.engine import add_client, conversation_id_of, eventually

SITE_KEY = {"X-Api-Key": "sandbox-webchat-key"}


def chat(thread: str, text_: str, dedupe: str, phone: str = "+380671234567", **extra) -> dict:
    return {"thread": thread, "dedupe_key": dedupe, "from": {"kind": "phone", "value": phone, "name": "Олена"},
            "text": text_, **extra}


async def offer_for(engine, web, user, thread_key):
    """The user's offer of the thread's conversation (offers name it by its public id)."""
    response = await web.get("/api/v1/agents/me", headers=user.headers)
    assert response.status == 200
    conversation_id = await conversation_id_of(engine, thread_key)
    for offer in (await response.json())["offers"]:
        if conversation_id is not None and offer["conversation"] == conversation_id:
            return offer
    await asyncio.sleep(0.05)
    return None


async def test_api_channel_contact_is_offered_accepted_and_worked_through_the_api(engine, web, login_as):
    client_id = await add_client(engine, "Шевченко Олена Петрівна", "+380671234567")
    agent = await login_as("cc_operator")
    state = await web.post("/api/v1/agents/me/state", json={"state": "available"}, headers=agent.headers)
    assert state.status == 200 and (await state.json())["state"] == "available"

    photo = base64.b64encode(b"\x89PNG fake meter photo").decode()
    stored = await web.post("/api/v1/inbound/site_chat", headers=SITE_KEY, json=chat(
        "visit-1", "Не можу сплатити рахунок", "m-1",
        attachments=[{"filename": "meter.png", "content_type": "image/png", "data": photo}]))
    assert stored.status == 202, await stored.text()
    assert (await stored.json())["thread"] == "visit-1"
    again = await web.post("/api/v1/inbound/site_chat", headers=SITE_KEY, json=chat("visit-1", "Не можу", "m-1"))
    assert again.status == 200 and (await again.json())["duplicate"] is True
    thread_key = "webchat:site_chat:visit-1"

    offer = await eventually(lambda: offer_for(engine, web, agent, thread_key))
    accepted = await web.post(f"/api/v1/agents/me/offers/{offer['offer_id']}/accept", headers=agent.headers)
    assert accepted.status == 200, await accepted.text()
    view = await accepted.json()
    assert view["ticket"]["status"] == "in_progress" and view["conversation"]["agent_id"] == agent.id
    second = await web.post(f"/api/v1/agents/me/offers/{offer['offer_id']}/accept", headers=agent.headers)
    assert second.status == 409 and (await second.json())["error"] == "no_longer_open"

    path = f"/api/v1/conversations/{view['conversation']['id']}"
    assert "thread_key" not in view["conversation"]
    read = await (await web.get(path, headers=agent.headers)).json()
    assert read["messages"][0]["text"] == "Не можу сплатити рахунок"
    assert read["ticket"]["client_id"] == client_id and read["card"] is not None
    number = read["ticket"]["number"]

    reply = await web.post(f"{path}/reply",
                           json={"text": "Вітаю! Допоможу.", "dedupe_key": "r1"}, headers=agent.headers)
    assert reply.status == 202
    note = await web.post(f"{path}/notes", json={"text": "клієнт ввічливий"},
                          headers=agent.headers)
    assert note.status == 201
    wrong = await web.post(f"{path}/classification", json={"category": "nonsense"},
                           headers=agent.headers)
    assert wrong.status == 400 and (await wrong.json())["field"] == "category"
    fixed = await web.post(f"{path}/classification",
                           json={"category": "billing.invoice", "priority": "high"}, headers=agent.headers)
    assert fixed.status == 200, await fixed.text()
    bad_status = await web.post(f"{path}/status", json={"status": "new"},
                                headers=agent.headers)
    assert bad_status.status == 409 and (await bad_status.json())["error"] == "refused"
    resolved = await web.post(f"{path}/status", json={"status": "resolved"},
                              headers=agent.headers)
    assert resolved.status == 200, await resolved.text()

    ticket = await (await web.get(f"/api/v1/tickets/{number}", headers=agent.headers)).json()
    assert ticket["category"] == "billing.invoice" and ticket["priority"] == "high" and ticket["status"] == "resolved"
    history = await (await web.get(f"/api/v1/tickets/{number}/history", headers=agent.headers)).json()
    kinds = [e["kind"] for e in history["events"]]
    assert kinds[:2] == ["created", "classified"] and "reclassified" in kinds and "first_response" in kinds

    async with engine.db.connect() as conn:
        audit = (await conn.execute(text(
            "SELECT actor, action, before, after FROM audit_log WHERE entity = 'conversation' AND entity_id = :k"
            " ORDER BY id"), {"k": str(view["conversation"]["id"])})).all()
        messages = (await conn.execute(text(
            "SELECT direction, attachments FROM messages m JOIN conversations c ON c.id = m.conversation_id"
            " WHERE c.thread_key = :k ORDER BY m.id"), {"k": thread_key})).all()
    assert [a.action for a in audit] == ["ticket.reclassify", "ticket.status"]
    assert audit[0].actor == f"agent:{agent.id}" and audit[0].after == {"category": "billing.invoice", "priority": "high"}
    assert audit[1].before == {"status": "in_progress"}
    assert [m.direction for m in messages] == ["in", "out", "note"]
    assert "meter.png" in str(messages[0].attachments)


async def test_an_operator_sees_only_own_tickets_and_masked_data_while_a_supervisor_sees_all(engine, web, login_as):
    await add_client(engine, "Коваль Петро", "+380501112233")
    agent = await login_as("cc_operator")
    other = await login_as("cc_operator")
    supervisor = await login_as("supervisor")
    analyst = await login_as("analyst")
    await web.post("/api/v1/agents/me/state", json={"state": "available"}, headers=agent.headers)
    await web.post("/api/v1/inbound/site_chat", headers=SITE_KEY, json=chat("v2", "Питання", "m-2", phone="+380501112233"))
    thread_key = "webchat:site_chat:v2"
    offer = await eventually(lambda: offer_for(engine, web, agent, thread_key))
    await web.post(f"/api/v1/agents/me/offers/{offer['offer_id']}/accept", headers=agent.headers)

    mine = await (await web.get("/api/v1/tickets", headers=agent.headers)).json()
    theirs = await (await web.get("/api/v1/tickets", headers=other.headers)).json()
    everyone = await (await web.get("/api/v1/tickets?agent_id=" + str(agent.id), headers=supervisor.headers)).json()
    assert len(mine["tickets"]) == 1 and theirs["tickets"] == [] and len(everyone["tickets"]) == 1
    number = mine["tickets"][0]["number"]
    assert (await web.get(f"/api/v1/tickets/{number}", headers=other.headers)).status == 404
    path = f"/api/v1/conversations/{await conversation_id_of(engine, thread_key)}"
    forbidden = await web.get(path, headers=other.headers)
    assert forbidden.status == 403 and (await forbidden.json())["error"] == "not_your_conversation"

    assert everyone["tickets"][0]["sender"] == "+380501112233"
    masked = await (await web.get("/api/v1/tickets", headers=analyst.headers)).json()
    assert masked["tickets"][0]["sender"] == "+38050***2233"
    card_view = await (await web.get(path, headers=supervisor.headers)).json()
    assert "Коваль Петро" in str(card_view["card"])

    nonsense = await web.get("/api/v1/tickets?status=flying&limit=5", headers=supervisor.headers)
    assert nonsense.status == 400 and (await nonsense.json())["field"] == "status"
    for query in ("sla=maybe", "from=yesterday", "limit=100000", "category=nope", "open=perhaps", "agent_id=x"):
        response = await web.get(f"/api/v1/tickets?{query}", headers=supervisor.headers)
        assert response.status == 400, query


async def test_supervisor_reassigns_changes_agent_state_and_sees_the_actor_view(engine, web, login_as):
    agent = await login_as("cc_operator")
    backup = await login_as("cc_operator")
    supervisor = await login_as("supervisor")
    await web.post("/api/v1/agents/me/state", json={"state": "available"}, headers=agent.headers)
    await web.post("/api/v1/inbound/site_chat", headers=SITE_KEY, json=chat("v3", "Світла нема", "m-3"))
    thread_key = "webchat:site_chat:v3"
    offer = await eventually(lambda: offer_for(engine, web, agent, thread_key))
    await web.post(f"/api/v1/agents/me/offers/{offer['offer_id']}/accept", headers=agent.headers)

    conversation_id = await conversation_id_of(engine, thread_key)
    moved = await web.post(f"/api/v1/supervisor/conversations/{conversation_id}/reassign",
                           json={"agent_id": backup.id, "reason": "expert"}, headers=supervisor.headers)
    assert moved.status == 200, await moved.text()
    view = await (await web.get(f"/api/v1/conversations/{conversation_id}", headers=backup.headers)).json()
    assert view["conversation"]["agent_id"] == backup.id
    state = await web.post(f"/api/v1/supervisor/agents/{agent.id}/state", json={"state": "break", "reason": "meeting"},
                           headers=supervisor.headers)
    assert state.status == 200 and (await state.json())["state"] == "break"
    actors = await (await web.get("/api/v1/supervisor/actors", headers=supervisor.headers)).json()
    assert {h.get("kind") for h in actors["hosts"]} >= {"conversation", "agent", "queue"}

    async def on_break():
        snapshot = await (await web.get("/api/v1/supervisor/snapshot", headers=supervisor.headers)).json()
        return any(a["id"] == str(agent.id) and a["state"]["state"] == "break" for a in snapshot["agent"])

    await eventually(on_break)  # the hub hears of the change moments after the actor made it
    async with engine.db.connect() as conn:
        actions = (await conn.execute(text("SELECT action FROM audit_log WHERE actor = :a ORDER BY id"),
                                      {"a": f"agent:{supervisor.id}"})).scalars().all()
    assert actions == ["conversation.reassign", "agent.state"]
