"""The agent's own endpoints: state, offers (accept / reject), the live stream of what concerns the
agent, own statistics and click-to-call.  An agent only ever addresses their own agent actor."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actors import messages as m
from channels.base import ChannelError
from crm_core import reports
from crm_core.phones import normalize_phone
from dashboards import sse
from dashboards.api import ApiRoutes, json_response
from dashboards.context import BODY, gateway, principal
from dashboards.conversation_ids import conversation_actor
from dashboards.engine import ask
from dashboards.errors import ApiError, bad_request, reason
from dashboards.masking import mask
from dashboards.reply_shapes import AGENT, CONVERSATION_VIEW, EVENT
from dashboards.schema import Body, Field
from dashboards.ticket_access import view_for

routes = ApiRoutes("agents")

AGENT_STATES = ("available", "break", "offline")
STATE = Body("AgentState", {
    "state": Field(str, required=True, choices=AGENT_STATES),
    "reason": Field(str, max_len=64, nullable=True, description="required for a break"),
})
REJECT = Body("RejectOffer", {"reason": Field(str, max_len=64)})
CALL = Body("ClickToCall", {"number": Field(str, required=True, max_len=32),
                            "conversation": Field(int, description="the conversation (its id) whose ticket the call"
                                                               " joins")})
DESKTOP_EVENTS = ("agent", "offer", "conversation", "message", "screen_pop", "escalation", "ticket")


def checked_state(body: dict[str, Any]) -> m.SetAgentState:
    reason = (body.get("reason") or "").strip() or None
    if body["state"] == "break" and reason is None:
        raise bad_request("missing_field", "reason", field="reason")
    return m.SetAgentState(body["state"], reason if body["state"] == "break" else None)


@routes.route("GET", "/api/v1/agents/me", "The agent's state, capacity, load, conversations and offers",
              permission="desktop")
async def my_agent(request: web.Request) -> web.Response:
    who = principal(request)
    return json_response(mask(await ask(request, who.agent_ref, m.GetAgent()), AGENT, who.role.mask))


@routes.route("POST", "/api/v1/agents/me/state", "Switch state: available, break (with a reason), offline",
              permission="desktop", body=STATE,
              statuses={409: "Refused in the entity's present state (no longer open, taken, changed meanwhile)"})
async def set_my_state(request: web.Request) -> web.Response:
    return json_response(await ask(request, principal(request).agent_ref, checked_state(request[BODY])))


@routes.route("POST", "/api/v1/agents/me/offers/{offer_id}/accept",
              "Accept an offer; returns the conversation with its client card", permission="desktop",
              statuses={409: "Refused in the entity's present state (no longer open, taken, changed meanwhile)"})
async def accept_offer(request: web.Request) -> web.Response:
    who = principal(request)
    view = await ask(request, who.agent_ref, m.AcceptOffer(request.match_info["offer_id"]))
    return json_response(mask(view_for(who, view), CONVERSATION_VIEW, who.role.mask))


@routes.route("POST", "/api/v1/agents/me/offers/{offer_id}/reject", "Reject an offer",
              permission="desktop", body=REJECT,
              statuses={409: "Refused in the entity's present state (no longer open, taken, changed meanwhile)"})
async def reject_offer(request: web.Request) -> web.Response:
    reason = request[BODY].get("reason") or "rejected"
    return json_response(await ask(request, principal(request).agent_ref,
                                   m.RejectOffer(request.match_info["offer_id"], reason)))


@routes.route("POST", "/api/v1/agents/me/offers/{offer_id}/shown",
              "The desktop displays the offer (only displayed offers count as missed)", permission="desktop",
              statuses={409: "Refused in the entity's present state (no longer open, taken, changed meanwhile)"})
async def offer_shown(request: web.Request) -> web.Response:
    shown = await ask(request, principal(request).agent_ref, m.OfferShown(request.match_info["offer_id"]))
    return json_response({"shown": shown})


@routes.route("GET", "/api/v1/agents/me/stream",
              "Server-sent events for this agent: own state, offers, conversations, screen pops",
              permission="desktop", produces="text/event-stream")
async def my_stream(request: web.Request) -> web.StreamResponse:
    who = principal(request)
    gw = gateway(request)

    def select(event: dict[str, Any]) -> dict[str, Any] | None:
        if event.get("type") not in DESKTOP_EVENTS or event.get("agent_id") not in (who.id, str(who.id)):
            return None
        return mask(event, EVENT, who.role.mask)

    async def snapshot() -> dict[str, Any]:
        hub = await gw.services.hub.snapshot()
        agent = await ask(request, who.agent_ref, m.GetAgent())
        mine = [c for c in hub.get("conversation", []) if c.get("agent_id") in (who.id, str(who.id))]
        return {"seq": hub["seq"], "agent": mask(agent, AGENT, who.role.mask),
                "conversations": mask(mine, [EVENT], who.role.mask)}

    return await sse.stream(request, select, snapshot)


@routes.route("GET", "/api/v1/agents/me/stats",
              "Own statistics: handled today, this week, this month; average handling time; SLA met",
              permission=("reports.own", "desktop"))
async def my_stats(request: web.Request) -> web.Response:
    async with gateway(request).services.db.connect() as conn:
        return json_response(await reports.agent_stats(conn, principal(request).id))


@routes.route("POST", "/api/v1/calls", "Click-to-call: ring the agent's extension, then the number",
              permission="desktop", body=CALL,
              statuses={409: "Refused in the entity's present state (no longer open, taken, changed meanwhile)"})
async def click_to_call(request: web.Request) -> web.Response:
    who = principal(request)
    if not who.extension:
        raise ApiError(409, "no_extension")
    body = request[BODY]
    if normalize_phone(body["number"]) is None:
        raise bad_request("invalid_phone", body["number"], field="number")
    ticket_number = None
    if body.get("conversation") is not None:
        view = await ask(request, (await conversation_actor(request, body["conversation"]))[1], m.GetConversation())
        if view["ticket"] is None:
            raise ApiError(404, "not_found", "conversation")
        ticket_number = view["ticket"]["number"]
    try:
        call_id = await gateway(request).services.channels.call_control("voice").originate(
            who.extension, body["number"], ticket_number=ticket_number)
    except ChannelError as exc:
        raise ApiError(503, "channel_unavailable", reason(exc)) from None
    return json_response({"placed": True, "call": call_id, "thread": f"voice:{call_id}", "ticket": ticket_number},
                         status=202)
