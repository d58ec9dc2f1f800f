"""The agent's workspace on one conversation: read it (thread, ticket, client card), reply, add an
internal note, change the status, correct the classification, transfer.  An agent acts only on a
conversation assigned to them unless the role may act on any; every change is audited."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from actors import messages as m
from actors.runtime.ref import ActorRef
from crm_core import audit
from dashboards.api import ApiRoutes, json_response
from dashboards.context import BODY, Principal, gateway, principal
from dashboards.conversation_ids import conversation_actor
from dashboards.engine import ask
from dashboards.errors import ApiError, bad_request
from dashboards.masking import mask
from dashboards.reply_shapes import CONVERSATION_VIEW
from dashboards.schema import Body, Field
from dashboards.ticket_access import view_for
from dashboards.transfer_targets import resolve_transfer, transfer_choices

routes = ApiRoutes("conversations")

TEXT_MAX = 20_000
REPLY = Body("Reply", {"text": Field(str, required=True, max_len=TEXT_MAX),
                       "dedupe_key": Field(str, max_len=128, description="repeat a retried reply safely")})
NOTE = Body("Note", {"text": Field(str, required=True, max_len=TEXT_MAX), "dedupe_key": Field(str, max_len=128)})
STATUS = Body("StatusChange", {"status": Field(str, required=True, max_len=32),
                               "comment": Field(str, max_len=2_000, nullable=True)})
CLASSIFY = Body("Classification", {"category": Field(str, max_len=64), "type": Field(str, max_len=32),
                                   "priority": Field(str, max_len=16)})
TRANSFER = Body("Transfer", {"reason": Field(str, required=True, max_len=255),
                             "queue": Field(str, max_len=64, description="a queue (its id or its name in any"
                                            " language) or a department; the choices: GET /api/v1/transfer-targets"),
                             "agent_id": Field(int)})

ACT = ("desktop", "conversations.any")


async def conversation_ref(request: web.Request) -> ActorRef:
    """The actor of the conversation in the path (by its public id)."""
    return (await conversation_actor(request, request.match_info["conversation_id"]))[1]


async def load_own(request: web.Request, who: Principal) -> dict[str, Any]:
    """The conversation view, refused when it is someone else's and the role may not act on any; a
    conversation a newer one on the same thread replaced is no longer there to act on."""
    conversation_id, ref = await conversation_actor(request, request.match_info["conversation_id"])
    view = await ask(request, ref, m.GetConversation(viewer=who.author))
    conversation = (view or {}).get("conversation")
    if not conversation or conversation.get("id") != conversation_id:
        raise ApiError(404, "not_found", "conversation")
    if conversation.get("agent_id") != who.id and not who.role.can("conversations.any"):
        raise ApiError(403, "not_your_conversation")
    return view


async def audited(request: web.Request, action: str, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    who = principal(request)
    async with gateway(request).services.db.begin() as conn:
        await audit.record(conn, actor=who.author, action=action, entity="conversation",
                           entity_id=request.match_info["conversation_id"], before=before, after=after)


@routes.route("GET", "/api/v1/conversations/{conversation_id}",
              "The conversation: thread, ticket, client card (masked per role)", permission=ACT)
async def read_conversation(request: web.Request) -> web.Response:
    who = principal(request)
    return json_response(mask(view_for(who, await load_own(request, who)), CONVERSATION_VIEW, who.role.mask))


@routes.route("POST", "/api/v1/conversations/{conversation_id}/reply", "Reply to the client on the conversation's channel",
              permission=ACT, body=REPLY,
              statuses={202: "Handed to the channel", 409: "Refused in the entity's present state (no longer open, taken, changed meanwhile)"})
async def reply(request: web.Request) -> web.Response:
    who = principal(request)
    await load_own(request, who)
    body = request[BODY]
    dedupe_key = f"reply:{who.id}:{body.get('dedupe_key') or uuid.uuid4().hex}"
    result = await ask(request, await conversation_ref(request), m.Reply(who.id, body["text"], dedupe_key))
    return json_response({"sent": True, "dedupe_key": dedupe_key, "result": result}, status=202)


@routes.route("POST", "/api/v1/conversations/{conversation_id}/notes", "Add an internal note (never sent to the client)",
              permission=ACT, body=NOTE,
              statuses={201: "Added", 409: "Refused in the entity's present state (no longer open, taken, changed meanwhile)"})
async def add_note(request: web.Request) -> web.Response:
    who = principal(request)
    await load_own(request, who)
    body = request[BODY]
    dedupe_key = f"note:{who.id}:{body.get('dedupe_key') or uuid.uuid4().hex}"
    await ask(request, await conversation_ref(request), m.AddNote(who.id, body["text"], dedupe_key))
    return json_response({"added": True, "dedupe_key": dedupe_key}, status=201)


@routes.route("POST", "/api/v1/conversations/{conversation_id}/status", "Change the ticket's status",
              permission=ACT, body=STATUS,
              statuses={409: "Refused in the entity's present state (no longer open, taken, changed meanwhile)"})
async def change_status(request: web.Request) -> web.Response:
    who = principal(request)
    body = request[BODY]
    tickets = gateway(request).services.settings.tickets
    if body["status"] not in tickets.statuses:
        raise bad_request("invalid_field", f"status: one of {list(tickets.statuses)}", field="status")
    view = await load_own(request, who)
    before = {"status": (view.get("ticket") or {}).get("status")}
    result = await ask(request, await conversation_ref(request), m.ChangeStatus(who.author, body["status"], body.get("comment")))
    await audited(request, "ticket.status", before, {"status": body["status"], "comment": body.get("comment")})
    after = await ask(request, await conversation_ref(request), m.GetConversation(viewer=who.author))
    return json_response(mask(view_for(who, {**result, **after}), CONVERSATION_VIEW, who.role.mask))


@routes.route("POST", "/api/v1/conversations/{conversation_id}/classification",
              "Correct the automatic category, type or priority", permission=ACT, body=CLASSIFY,
              statuses={409: "Refused in the entity's present state (no longer open, taken, changed meanwhile)"})
async def reclassify(request: web.Request) -> web.Response:
    who = principal(request)
    body = request[BODY]
    if not body:
        raise bad_request("missing_field", "category | type | priority", field="category")
    tickets = gateway(request).services.settings.tickets
    for name, allowed in (("category", tickets.categories), ("type", tickets.types), ("priority", tickets.priorities)):
        if name in body and body[name] not in allowed:
            raise bad_request("invalid_field", f"{name}={body[name]}: unknown", field=name)
    view = await load_own(request, who)
    ticket = view.get("ticket") or {}
    result = await ask(request, await conversation_ref(request), m.Reclassify(who.author, **body))
    await audited(request, "ticket.reclassify", {k: ticket.get(k) for k in body}, body)
    return json_response(mask(view_for(who, result), CONVERSATION_VIEW, who.role.mask))


@routes.route("POST", "/api/v1/conversations/{conversation_id}/transfer", "Transfer to a queue (department) or an agent",
              permission=ACT, body=TRANSFER,
              statuses={409: "Refused in the entity's present state (no longer open, taken, changed meanwhile)"})
async def transfer(request: web.Request) -> web.Response:
    who = principal(request)
    body = request[BODY]
    if ("queue" in body) == ("agent_id" in body):
        raise bad_request("invalid_body", "give either queue or agent_id", field="queue")
    target = await resolve_transfer(request, body)
    view = await load_own(request, who)
    before = {k: (view.get("conversation") or {}).get(k) for k in ("queue", "agent_id")}
    result = await ask(request, await conversation_ref(request), m.Transfer(
        who.author, body["reason"], queue=target.queue, agent_id=target.agent_id))
    await audited(request, "conversation.transfer", before, body)
    return json_response(mask(view_for(who, result), CONVERSATION_VIEW, who.role.mask))


@routes.route("GET", "/api/v1/transfer-targets",
              "Where a conversation may be transferred: queues with their localised names and departments, agents"
              " with their names and states", permission=ACT)
async def transfer_targets(request: web.Request) -> web.Response:
    return json_response(await transfer_choices(request))
