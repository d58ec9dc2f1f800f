"""The supervisor wall: the live state (snapshot and event stream), the actor view, the escalations
feed and the supervisor's actions (reassign a conversation, change an agent's state, acknowledge an
escalation), plus the wall's widgets as each user arranged them."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from actors import messages as m
from actors.runtime.ref import ActorRef
from crm_core import audit, notifications, tickets_query
from dashboards import sse
from dashboards.api import ApiRoutes, json_response
from dashboards.context import BODY, gateway, principal
from dashboards.conversation_ids import conversation_actor
from dashboards.engine import ask
from dashboards.errors import ApiError, bad_request
from dashboards.masking import mask
from dashboards.reply_shapes import ACTORS, CONVERSATION_VIEW, EVENT, SNAPSHOT
from dashboards.routes.agents import STATE, checked_state
from dashboards.schema import Body, Field
from dashboards.service_level import queue_service_levels, start_of_today
from dashboards.transfer_targets import resolve_transfer

routes = ApiRoutes("supervisor")

REASSIGN = Body("Reassign", {"reason": Field(str, required=True, max_len=255), "queue": Field(str, max_len=64),
                             "agent_id": Field(int)})
ACK = Body("AcknowledgeEscalation", {"comment": Field(str, max_len=2_000)})
LAYOUT = Body("WallLayout", {"widgets": Field(list, required=True, max_len=20)})
ESCALATION_WINDOW = timedelta(hours=24)


async def wall_snapshot(request: web.Request) -> dict[str, Any]:
    who = principal(request)
    snapshot = await gateway(request).services.hub.snapshot()
    return {**mask(snapshot, SNAPSHOT, who.role.mask), "seq": snapshot["seq"], "taken_at": time.time()}


@routes.route("GET", "/api/v1/supervisor/snapshot", "Live state of every queue, agent and conversation",
              permission="wall.view")
async def snapshot(request: web.Request) -> web.Response:
    return json_response(await wall_snapshot(request))


@routes.route("GET", "/api/v1/supervisor/stream", "The live state as server-sent events (resume with Last-Event-ID)",
              permission="wall.view", produces="text/event-stream")
async def stream(request: web.Request) -> web.StreamResponse:
    fields = principal(request).role.mask

    def select(event: dict[str, Any]) -> dict[str, Any] | None:
        return mask(event, EVENT, fields)

    return await sse.stream(request, select, lambda: wall_snapshot(request))


@routes.route("GET", "/api/v1/supervisor/service-level",
              "Today's service level per queue: answered within the queue's threshold, abandoned counted as "
              "configured", permission="wall.view")
async def service_level(request: web.Request) -> web.Response:
    start = start_of_today()
    levels = await queue_service_levels(gateway(request).services, start)
    return json_response({"from": start, "queues": [level.as_json() for level in levels]})


@routes.route("GET", "/api/v1/supervisor/actors", "Every live actor with its host, mailbox depth and state",
              permission="actors.view")
async def actors(request: web.Request) -> web.Response:
    hosts = await gateway(request).services.system.describe()
    return json_response({"hosts": mask(hosts, ACTORS, principal(request).role.mask)})


@routes.route("GET", "/api/v1/supervisor/escalations", "SLA escalations of open tickets in the last 24 hours",
              permission="wall.view")
async def escalations(request: web.Request) -> web.Response:
    async with gateway(request).services.db.connect() as conn:
        rows = await tickets_query.recent_escalations(conn, datetime.now(UTC) - ESCALATION_WINDOW)
    return json_response({"escalations": rows})


@routes.route("POST", "/api/v1/supervisor/escalations/{escalation_id}/ack", "Acknowledge an escalation",
              permission="wall.act", body=ACK)
async def acknowledge(request: web.Request) -> web.Response:
    who = principal(request)
    gw = gateway(request)
    escalation_id = request.match_info["escalation_id"]
    if len(escalation_id) > 64 or ":" not in escalation_id:
        raise ApiError(404, "not_found", "escalation")
    comment = request[BODY].get("comment")
    async with gw.services.db.begin() as conn:
        await audit.record(conn, actor=who.author, action="escalation.ack", entity="escalation",
                           entity_id=escalation_id, after={"comment": comment})
        await notifications.acknowledge_key(conn, escalation_id, who.author)
    await gw.services.hub.publish([{"type": "escalation_ack", "id": escalation_id,
                                    "state": {"by": who.author, "comment": comment, "at": time.time()}}])
    return json_response({"acknowledged": escalation_id})


@routes.route("POST", "/api/v1/supervisor/conversations/{conversation_id}/reassign",
              "Reassign a conversation to another agent or queue", permission="wall.act", body=REASSIGN,
              statuses={409: "Refused in the entity's present state (no longer open, taken, changed meanwhile)"})
async def reassign(request: web.Request) -> web.Response:
    who = principal(request)
    body = request[BODY]
    if ("queue" in body) == ("agent_id" in body):
        raise bad_request("invalid_body", "give either queue or agent_id", field="queue")
    conversation_id, ref = await conversation_actor(request, request.match_info["conversation_id"])
    target = await resolve_transfer(request, body)
    result = await ask(request, ref, m.Transfer(
        who.author, body["reason"], queue=target.queue, agent_id=target.agent_id))
    async with gateway(request).services.db.begin() as conn:
        await audit.record(conn, actor=who.author, action="conversation.reassign", entity="conversation",
                           entity_id=conversation_id, after=body)
    return json_response(mask(result, CONVERSATION_VIEW, who.role.mask))


@routes.route("POST", "/api/v1/supervisor/agents/{agent_id}/state", "Change an agent's state",
              permission="wall.act", body=STATE,
              statuses={409: "Refused in the entity's present state (no longer open, taken, changed meanwhile)"})
async def set_agent_state(request: web.Request) -> web.Response:
    who = principal(request)
    try:
        agent_id = int(request.match_info["agent_id"])
    except ValueError:
        raise ApiError(404, "not_found", "agent") from None
    change = checked_state(request[BODY])
    ref = ActorRef("agent", str(agent_id))
    before = await ask(request, ref, m.GetAgent())
    result = await ask(request, ref, change)
    async with gateway(request).services.db.begin() as conn:
        await audit.record(conn, actor=who.author, action="agent.state", entity="agent", entity_id=agent_id,
                           before={"state": before.get("state"), "reason": before.get("reason")},
                           after={"state": change.state, "reason": change.reason})
    return json_response(result)


@routes.route("GET", "/api/v1/supervisor/layout", "The wall's widgets as this user arranged them",
              permission="wall.view")
async def get_layout(request: web.Request) -> web.Response:
    who = principal(request)
    gw = gateway(request)
    return json_response({"widgets": await gw.layouts.get(who.id, who.role.name),
                          "available": list(gw.settings.widgets)})


@routes.route("PUT", "/api/v1/supervisor/layout", "Save the wall's widgets (kind and filters each)",
              permission="wall.view", body=LAYOUT)
async def put_layout(request: web.Request) -> web.Response:
    who = principal(request)
    widgets = await gateway(request).layouts.put(who.id, who.role.name, request[BODY]["widgets"])
    return json_response({"widgets": widgets})
