"""What the workspace shows after a status change comes with the answer (SR-08 timer, CM statuses): On Hold
answers with the clocks paused (their time left frozen), Closed answers with the closed conversation and
its ticket, and reading a closed conversation again shows it closed instead of "not found"."""

from __future__ import annotations

import asyncio

from tests.integration.dashboards.test_dashboards_agent_flow import SITE_KEY, chat, offer_for
from tests.support.engine import eventually


async def test_on_hold_answers_paused_clocks_and_closing_answers_the_closed_conversation(engine, web, login_as):
    agent = await login_as("cc_operator")
    await web.post("/api/v1/agents/me/state", json={"state": "available"}, headers=agent.headers)
    await web.post("/api/v1/inbound/site_chat", headers=SITE_KEY, json=chat("close-1", "Питання щодо договору", "c-1"))
    thread_key = "webchat:site_chat:close-1"
    offer = await eventually(lambda: offer_for(engine, web, agent, thread_key))
    await web.post(f"/api/v1/agents/me/offers/{offer['offer_id']}/accept", headers=agent.headers)
    path = f"/api/v1/conversations/{offer['conversation']}"

    held = await web.post(path + "/status", json={"status": "on_hold"}, headers=agent.headers)
    assert held.status == 200, await held.text()
    view = await held.json()
    assert view["status"] == "on_hold" and view["ticket"]["status"] == "on_hold"
    clocks = view["sla"]["clocks"]
    assert clocks["first_response"]["state"] == "paused" and clocks["resolution"]["state"] == "paused"
    assert clocks["first_response"]["due_at"] is None
    await asyncio.sleep(1.2)
    later = await (await web.get(path, headers=agent.headers)).json()
    assert later["sla"]["clocks"]["resolution"]["remaining_s"] == clocks["resolution"]["remaining_s"]  # frozen

    await web.post(path + "/status", json={"status": "resolved"}, headers=agent.headers)
    closed = await web.post(path + "/status", json={"status": "closed"}, headers=agent.headers)
    assert closed.status == 200, await closed.text()
    answer = await closed.json()
    assert answer["conversation"]["status"] == "closed" and answer["ticket"]["status"] == "closed"
    assert answer["sla"]["clocks"]["resolution"]["state"] == "stopped"
    again = await web.get(path, headers=agent.headers)
    assert again.status == 200, await again.text()
    shown = await again.json()
    assert shown["conversation"]["status"] == "closed" and shown["ticket"]["number"] == answer["ticket"]["number"]
    assert [m["text"] for m in shown["messages"] if m["direction"] == "in"] == ["Питання щодо договору"]
