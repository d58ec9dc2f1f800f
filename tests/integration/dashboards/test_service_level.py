"""One service level for the wall, the reports and ``/metrics``, from the tickets: contacts answered
within the queue's threshold over answered and abandoned ones; it is the same after the engine (and the
queue's host with it) restarts, while the queue actor's in-memory offer counts start again from zero."""

from __future__ import annotations

import asyncio
import re
import shutil
import uuid
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from actors import messages as m
from actors.runtime import ActorRef
from actors.system import LocalEngine
from channels.base import Address, Inbound
from dashboards.app import build_app
from tests.integration.dashboards.conftest import PASSWORD, make_user
from tests.support.engine import METRICS, add_agent, eventually, open_for_logins

CONFIG = Path(__file__).resolve().parents[3] / "config"
CHAT_WITHIN_S = 3.0


@pytest.fixture
def config_dir(tmp_path) -> Path:
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    routing = (config / "routing.toml").read_text(encoding="utf-8")
    assert 'chat = { goal = 80, within = "60s" }' in routing
    (config / "routing.toml").write_text(routing.replace(
        'chat = { goal = 80, within = "60s" }', f'chat = {{ goal = 80, within = "{CHAT_WITHIN_S:g}s" }}'),
        encoding="utf-8")
    return config


async def started(url: str, config: Path) -> tuple[LocalEngine, object, TestClient]:
    local = LocalEngine(url, config_dir=config)
    services = await local.start()
    await open_for_logins(services)
    client = TestClient(TestServer(build_app(services), host="127.0.0.1", port=0))
    await client.start_server()
    return local, services, client


async def supervisor_headers(services, client) -> dict[str, str]:
    _, login = await make_user(services, "supervisor")
    response = await client.post("/api/v1/auth/login", json={"login": login, "password": PASSWORD})
    assert response.status == 200, await response.text()
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


def chat(text_: str) -> Inbound:
    thread = uuid.uuid4().hex[:10]
    return Inbound(channel="webchat", thread_key=f"webchat:site:{thread}", dedupe_key=uuid.uuid4().hex,
                   sender=Address("web", f"visitor-{thread}"), text=text_)


def abandoned_call(wait_s: int) -> Inbound:
    linkedid = uuid.uuid4().hex[:12]
    return Inbound(channel="voice", kind="call_event", thread_key=f"voice:{linkedid}",
                   dedupe_key=f"voice:{linkedid}:hangup", sender=Address("phone", "0671112299"),
                   metadata={"call_event": "hangup", "linkedid": linkedid, "caller": "0671112299", "mode": "observe",
                             "abandoned": True, "wait_seconds": wait_s, "hangup_cause": "16"})


async def take(services, agent: ActorRef, item: Inbound, after_s: float) -> None:
    await services.inbox.store(item)

    async def offered():
        offers = (await services.system.ask(agent, m.GetAgent()))["offers"]
        return next((o for o in offers if o["conversation"] == item.thread_key), None)

    offer = await eventually(offered)
    await asyncio.sleep(after_s)
    await services.system.ask(agent, m.AcceptOffer(offer["offer_id"]))


async def figures(client, headers) -> tuple[dict, dict, str]:
    wall = await (await client.get("/api/v1/supervisor/service-level", headers=headers)).json()
    report = await (await client.get("/api/v1/reports/summary", headers=headers)).json()
    metrics = await (await client.get("/metrics", headers=METRICS)).text()
    by_queue = {q["queue"]: q for q in wall["queues"]}
    reported = {q["queue"]: q for q in report["service_level"]}
    return by_queue, reported, metrics


def metric(text: str, name: str, queue: str) -> float:
    found = re.search(rf'^switchboard_{name}\{{queue="{queue}"\}} ([0-9.]+)$', text, re.M)
    assert found, f"{name} for {queue} not in /metrics"
    return float(found.group(1))


async def test_service_level_counts_answers_within_the_threshold_and_abandons_and_survives_a_restart(
        fresh_db_url, config_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("SWITCHBOARD_DATA", str(tmp_path))
    local, services, client = await started(fresh_db_url, config_dir)
    try:
        headers = await supervisor_headers(services, client)
        agent = ActorRef("agent", str(await add_agent(services, "sl-olena")))
        await services.system.ask(agent, m.SetAgentState("available"))
        await take(services, agent, chat("Коли прийде рахунок?"), after_s=0)
        await services.system.ask(agent, m.SetAgentState("break", "lunch"))  # the next chat waits for the agent
        late = chat("Як передати показники?")
        await services.inbox.store(late)
        await asyncio.sleep(CHAT_WITHIN_S + 1)
        await services.system.ask(agent, m.SetAgentState("available"))
        await take(services, agent, late, after_s=0)
        await services.inbox.store(abandoned_call(wait_s=45))

        async def counted():
            wall, _, _ = await figures(client, headers)
            done = wall.get("general", {}).get("answered") == 2 and wall.get(None, {}).get("abandoned") == 1
            return wall if done else None

        wall = await eventually(counted)
        general = wall["general"]
        assert general["answered_within"] == 1 and general["service_level_pct"] == 50.0
        assert general["targets"]["chat"] == f"80/{CHAT_WITHIN_S:g}"
        assert wall[None]["service_level_pct"] == 0.0  # the caller who hung up after 45 s counts against it
        _, reported, metrics = await figures(client, headers)
        assert reported["general"]["service_level_pct"] == 50.0
        assert metric(metrics, "queue_service_level_percent", "general") == 50.0
        assert metric(metrics, "queue_abandoned_today", "none") == 1
        assert re.search(r'^switchboard_tickets_created_today\{channel="voice"\} 1\.0$', metrics, re.M)
        assert re.search(r'^switchboard_agents\{state="(available|busy)"\} 1\.0$', metrics, re.M)
        summary = (await (await client.get("/api/v1/reports/summary", headers=headers)).json())["totals"]
        assert summary["abandoned_pct"] > 0  # the abandoned call, which the report used to miss
        queue_before = await services.system.ask(ActorRef("queue", "general"), m.GetQueue())
        assert queue_before["stats"]["answered"] == 2
    finally:
        await client.close()
        await local.stop()

    local, services, client = await started(fresh_db_url, config_dir)
    try:
        headers = await supervisor_headers(services, client)
        queue_after = await services.system.ask(ActorRef("queue", "general"), m.GetQueue())
        assert queue_after["stats"]["answered"] == 0  # a new activation: the per-offer counts are gone
        wall, reported, metrics = await figures(client, headers)
        assert wall["general"]["service_level_pct"] == 50.0
        assert reported["general"]["service_level_pct"] == 50.0
        assert metric(metrics, "queue_service_level_percent", "general") == 50.0
    finally:
        await client.close()
        await local.stop()
