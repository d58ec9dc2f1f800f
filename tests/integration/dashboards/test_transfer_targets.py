"""Transfers as people name their targets: the API offers the queues with their localised names and the
agents with names and states; a transfer to a queue by its Ukrainian name works, and an unknown or empty
queue or an unknown agent is a clear localised 400 that lists the choices, never a traceback."""

from __future__ import annotations

from tests.integration.dashboards.test_dashboards_agent_flow import SITE_KEY, chat, offer_for
from tests.support.engine import eventually


async def test_the_choices_and_a_transfer_by_name_and_unknown_targets_refused(engine, web, login_as):
    agent = await login_as("cc_operator")
    await web.post("/api/v1/agents/me/state", json={"state": "available"}, headers=agent.headers)
    other = await login_as("cc_operator")
    choices = await web.get("/api/v1/transfer-targets", headers=agent.headers)
    assert choices.status == 200
    targets = await choices.json()
    names = {q["queue"]: q["name"] for q in targets["queues"]}
    assert names["billing"] == "Розрахунки та оплати" and names["vip"] == "VIP та юридичні особи"
    english = await (await web.get("/api/v1/transfer-targets?lang=en", headers=agent.headers)).json()
    assert {q["queue"]: q["name"] for q in english["queues"]}["billing"] == "Billing and payments"
    people = {a["agent_id"]: a for a in targets["agents"]}
    assert people[agent.id]["name"] == "Тест cc_operator" and people[agent.id]["state"] == "available"
    assert people[other.id]["state"] == "offline"

    await web.post("/api/v1/inbound/site_chat", headers=SITE_KEY, json=chat("transfer-1", "Питання щодо договору", "t-1"))
    thread_key = "webchat:site_chat:transfer-1"
    offer = await eventually(lambda: offer_for(engine, web, agent, thread_key))
    accepted = await web.post(f"/api/v1/agents/me/offers/{offer['offer_id']}/accept", headers=agent.headers)
    assert accepted.status == 200
    path = f"/api/v1/conversations/{offer['conversation']}/transfer"

    for body, field in (({"queue": "Бухгалтерія", "reason": "до бухгалтерії"}, "queue"),
                        ({"queue": "  ", "reason": "порожньо"}, "queue"),
                        ({"agent_id": 987654, "reason": "нікому"}, "agent_id")):
        refused = await web.post(path, json=body, headers=agent.headers)
        assert refused.status == 400, await refused.text()
        answer = await refused.json()
        assert answer["error"] == "unknown_transfer_target" and answer["field"] == field
        assert answer["message"].startswith("Немає такої черги") and "Traceback" not in await refused.text()
        assert answer["choices"]

    moved = await web.post(path, json={"queue": "розрахунки та оплати", "reason": "питання оплати"}, headers=agent.headers)
    assert moved.status == 200, await moved.text()
    assert (await moved.json())["conversation"]["queue"] == "billing"
