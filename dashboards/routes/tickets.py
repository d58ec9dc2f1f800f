"""Tickets: the filtered list, one ticket, its history, and a ticket created by hand (a walk-in visit,
a call-back request) which enters the engine like any other contact."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from channels.base import Address, Inbound
from crm_core import audit, tickets_query
from dashboards.api import ApiRoutes, json_response
from dashboards.context import BODY, Principal, gateway, principal
from dashboards.errors import ApiError, bad_request
from dashboards.filters import MAX_PAGE, parse_int, ticket_filter
from dashboards.masking import mask
from dashboards.reply_shapes import MESSAGE, TICKET, TICKET_EVENT
from dashboards.schema import Body, Field
from dashboards.ticket_access import may_read, reads_all

routes = ApiRoutes("tickets")

READ = ("tickets.read", "tickets.read_own")
TICKET_FILTERS = {"status": "statuses, comma-separated", "channel": "channels", "category": "category (and below)",
                  "type": "types", "priority": "priorities", "queue": "queues", "agent_id": "agent ids",
                  "client_id": "one client", "from": "created from (date or ISO time)", "to": "created before",
                  "open": "true: only open tickets", "sla": "breached | at_risk | ok",
                  "q": "a ticket number, a client's name, a phone or an account number"}
CONTACT_KINDS = ("phone", "email", "telegram", "viber", "web", "app")
WALK_IN = Body("ManualTicket", {
    "contact_kind": Field(str, required=True, choices=CONTACT_KINDS),
    "contact": Field(str, required=True, max_len=320),
    "name": Field(str, max_len=200),
    "subject": Field(str, max_len=500),
    "text": Field(str, required=True, max_len=20_000),
    "dedupe_key": Field(str, max_len=128, description="repeat a retried request safely"),
})


def own_only(who: Principal) -> dict[str, Any]:
    """Forced filter fields: an operator sees only tickets assigned to them."""
    return {} if reads_all(who) else {"agent_ids": (who.id,)}


@routes.route("GET", "/api/v1/tickets", "Tickets, newest first, with filters; page with before=<last id>",
              permission=READ, query={**TICKET_FILTERS, "limit": f"1..{MAX_PAGE}", "before": "id of the last row seen"})
async def list_tickets(request: web.Request) -> web.Response:
    who = principal(request)
    gw = gateway(request)
    flt = ticket_filter(request.query, gw.services.settings.tickets, **own_only(who))
    limit = parse_int(request.query, "limit", 50, 1, MAX_PAGE)
    before = parse_int(request.query, "before", None, 1, 2**62)
    async with gw.services.db.connect() as conn:
        rows = await tickets_query.list_tickets(conn, flt, limit=limit, before_id=before)
    return json_response({"tickets": mask(rows, [TICKET], who.role.mask),
                          "next_before": rows[-1]["id"] if len(rows) == limit else None})


async def _readable(request: web.Request) -> dict[str, Any]:
    who = principal(request)
    async with gateway(request).services.db.connect() as conn:
        ticket = await tickets_query.read_ticket(conn, request.match_info["number"])
    if ticket is None or not may_read(who, ticket):
        raise ApiError(404, "not_found", "ticket")
    return ticket


@routes.route("GET", "/api/v1/tickets/{number}", "One ticket with its linked tickets", permission=READ)
async def read_ticket(request: web.Request) -> web.Response:
    return json_response(mask(await _readable(request), TICKET, principal(request).role.mask))


@routes.route("GET", "/api/v1/tickets/{number}/history", "Every event of a ticket, oldest first", permission=READ)
async def ticket_history(request: web.Request) -> web.Response:
    ticket = await _readable(request)
    async with gateway(request).services.db.connect() as conn:
        events = await tickets_query.ticket_history(conn, ticket["id"])
    return json_response({"number": ticket["number"], "events": mask(events, [TICKET_EVENT], principal(request).role.mask)})


@routes.route("GET", "/api/v1/tickets/{number}/messages",
              "The ticket's thread (client, agent, bot and notes), oldest first", permission=READ)
async def ticket_messages(request: web.Request) -> web.Response:
    ticket = await _readable(request)
    async with gateway(request).services.db.connect() as conn:
        messages = await tickets_query.ticket_messages(conn, ticket)
    return json_response({"number": ticket["number"], "messages": mask(messages, [MESSAGE], principal(request).role.mask)})


MAX_CONVERSATIONS = 200


@routes.route("GET", "/api/v1/conversation-tickets", "The ticket number of each conversation named",
              permission=("tickets.read", "audit.read"),
              query={"conversation": f"conversation ids, comma-separated (at most {MAX_CONVERSATIONS})"})
async def conversation_tickets(request: web.Request) -> web.Response:
    named = {c.strip() for raw in request.query.getall("conversation", ()) for c in raw.split(",") if c.strip()}
    if len(named) > MAX_CONVERSATIONS or not all(c.isdigit() and len(c) <= 18 for c in named):
        raise bad_request("invalid_filter", f"conversation: at most {MAX_CONVERSATIONS} ids", field="conversation")
    async with gateway(request).services.db.connect() as conn:
        numbers = await tickets_query.numbers_of_conversations(conn, sorted(map(int, named))) if named else {}
    return json_response({"tickets": numbers})


@routes.route("POST", "/api/v1/tickets", "Create a ticket by hand (walk-in visit); it is routed like any contact",
              permission="tickets.create", body=WALK_IN,
              statuses={200: "Sent before (duplicate)", 202: "Accepted: the ticket is being opened"})
async def create_ticket(request: web.Request) -> web.Response:
    who = principal(request)
    gw = gateway(request)
    body = request[BODY]
    if not body["contact"].strip():
        raise bad_request("missing_field", "contact", field="contact")
    visit = body.get("dedupe_key") or uuid.uuid4().hex
    inbound = Inbound(
        channel="web_form", thread_key=f"web_form:walk_in:{who.id}:{visit}", dedupe_key=f"walk_in:{who.id}:{visit}",
        sender=Address(body["contact_kind"], body["contact"].strip(), body.get("name")), text=body["text"],
        subject=body.get("subject"), metadata={"walk_in": True, "created_by": who.author})
    taken = await gw.services.inbox.intake.take(inbound)
    if taken.parked_id is not None:
        return json_response({"parked": True, "thread": inbound.thread_key}, status=202)
    if taken.duplicate:
        return json_response({"duplicate": True, "thread": inbound.thread_key})
    inbox_id = taken.inbox_id
    async with gw.services.db.begin() as conn:
        await audit.record(conn, actor=who.author, action="ticket.create_by_hand", entity="conversation",
                           entity_id=inbound.thread_key, after={"contact_kind": body["contact_kind"],
                                                                "subject": body.get("subject"), "inbox_id": inbox_id})
    return json_response({"inbox_id": inbox_id, "thread": inbound.thread_key}, status=202)
