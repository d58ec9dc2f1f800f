"""The live event streams: snapshot first, then events with ids; a reconnect with Last-Event-ID gets
exactly what it missed; a reconnect after the events left the ring gets a fresh snapshot; the agent's
stream carries only the agent's own events; heartbeats say whether the feed is live."""

from __future__ import annotations

import asyncio
import json

from dashboards.context import GATEWAY


async def read_events(response, count: int, timeout_s: float = 10.0, until=None) -> list[tuple[str | None, str, dict]]:
    """Parse server-sent events off the wire until ``count`` non-heartbeat events arrived (or, given
    ``until``, until it holds for the events so far)."""
    events: list[tuple[str | None, str, dict]] = []
    event_id, name, data = None, "message", []

    async def pump() -> None:
        nonlocal event_id, name, data
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if not line:
                if data and name != "heartbeat":
                    events.append((event_id, name, json.loads("\n".join(data))))
                    if (until(events) if until else len(events) >= count):
                        return
                event_id, name, data = None, "message", []
            elif line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])

    await asyncio.wait_for(pump(), timeout_s)
    return events


async def publish(engine, *events):
    await engine.hub.publish(list(events))


def agent_event(agent_id: int, state: str) -> dict:
    return {"type": "agent", "id": str(agent_id), "agent_id": agent_id, "state": {"state": state}}


async def test_wall_stream_sends_snapshot_then_events_and_resumes_from_last_event_id(engine, web, login_as):
    supervisor = await login_as("supervisor")
    await publish(engine, agent_event(901, "available"))
    stream = await web.get("/api/v1/supervisor/stream", headers=supervisor.headers)
    assert stream.status == 200 and stream.headers["Content-Type"].startswith("text/event-stream")
    [(snap_id, name, snapshot)] = await read_events(stream, 1)
    assert name == "snapshot" and any(a["id"] == "901" for a in snapshot["agent"])
    await publish(engine, agent_event(901, "break"), agent_event(902, "available"))
    got = await read_events(stream, 2)
    assert [(n, e["id"], e["state"]["state"]) for _, n, e in got] == [("agent", "901", "break"), ("agent", "902", "available")]
    assert [int(i) for i, _, _ in got] == [int(snap_id) + 1, int(snap_id) + 2]
    stream.close()

    # while disconnected, more happens; the reconnect names the last id it saw
    await publish(engine, agent_event(901, "offline"), agent_event(903, "available"))
    resumed = await web.get("/api/v1/supervisor/stream",
                            headers={**supervisor.headers, "Last-Event-ID": got[-1][0]})
    missed = await read_events(resumed, 2)
    assert [(n, e["id"], e["state"]["state"]) for _, n, e in missed] == [("agent", "901", "offline"), ("agent", "903", "available")]
    resumed.close()


async def test_reconnect_after_the_ring_forgot_gets_a_fresh_snapshot(engine, web, login_as):
    supervisor = await login_as("supervisor")
    engine.hub.hub.ring = type(engine.hub.hub.ring)(engine.hub.hub.ring, maxlen=5)
    web.app[GATEWAY].relay.ring = type(web.app[GATEWAY].relay.ring)(maxlen=5)
    await publish(engine, *[agent_event(950 + i, "available") for i in range(12)])
    resumed = await web.get("/api/v1/supervisor/stream", headers={**supervisor.headers, "Last-Event-ID": "1"})
    [(_, name, snapshot)] = await read_events(resumed, 1)
    assert name == "snapshot" and {a["id"] for a in snapshot["agent"]} >= {str(950 + i) for i in range(12)}
    resumed.close()
    ahead = await web.get("/api/v1/supervisor/stream", headers={**supervisor.headers, "Last-Event-ID": "999999"})
    [(_, name, _)] = await read_events(ahead, 1)
    assert name == "snapshot"  # an id from before a hub restart: start over
    ahead.close()


async def test_agent_stream_carries_only_the_agents_own_events(engine, web, login_as):
    agent = await login_as("cc_operator")
    stream = await web.get("/api/v1/agents/me/stream", headers=agent.headers)
    assert stream.status == 200
    [(_, name, snapshot)] = await read_events(stream, 1)
    assert name == "snapshot" and snapshot["agent"]["id"] == agent.id
    await publish(engine,
                  {"type": "offer", "id": "o-other", "agent_id": agent.id + 1000, "state": {"conversation": "x"}},
                  {"type": "queue", "id": "general", "state": {"waiting_count": 3}},
                  {"type": "offer", "id": "o-mine", "agent_id": agent.id,
                   "state": {"conversation": "webchat:s:1", "expires_at": 0}},
                  {"type": "screen_pop", "id": "voice:1", "conversation_id": 9, "agent_id": agent.id,
                   "state": {"card": {"full_name": "Коваль Петро", "phone": "+380501112233"}}})
    got = [(n, e["id"]) for _, n, e in await read_events(
        stream, 0, until=lambda events: any(n == "screen_pop" for _, n, _ in events))]
    # besides its own agent actor's state (which its activation publishes), only its offer and screen pop
    assert [g for g in got if g[0] != "agent"][:2] == [("offer", "o-mine"), ("screen_pop", 9)]  # by its public id
    assert all(g == ("agent", str(agent.id)) for g in got if g[0] == "agent")
    stream.close()


async def test_stream_refuses_a_role_without_the_wall(web, login_as):
    operator = await login_as("cc_operator")
    response = await web.get("/api/v1/supervisor/stream", headers=operator.headers)
    assert response.status == 403 and (await response.json())["error"] == "forbidden"


async def test_nonsense_last_event_id_starts_with_a_snapshot(web, login_as):
    supervisor = await login_as("supervisor")
    stream = await web.get("/api/v1/supervisor/stream", headers={**supervisor.headers, "Last-Event-ID": "banana"})
    [(_, name, _)] = await read_events(stream, 1)
    assert name == "snapshot"
    stream.close()


async def test_analyst_sees_the_wall_with_personal_data_masked(engine, web, login_as):
    analyst = await login_as("analyst")
    stream = await web.get("/api/v1/supervisor/stream", headers=analyst.headers)
    await read_events(stream, 1)
    await publish(engine, {"type": "conversation", "id": "voice:77", "agent_id": None,
                           "state": {"ticket": {"number": "26-000001", "sender": "+380671234567"}}})
    [(_, _, event)] = await read_events(stream, 1)
    assert event["state"]["ticket"]["sender"] == "+38067***4567"
    stream.close()
