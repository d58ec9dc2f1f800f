"""The informing service's API: message templates (save a version, list, preview for a real client), a
message to a client (the operator's send, or an event of another system), a message's recorded steps,
and the client's communication timeline."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from crm_core.consent import record_consent
from crm_core.message_templates import list_templates, newest_template, save_template
from crm_core.outbox import (
    ORIGINS,
    OutboundMessage,
    client_addresses,
    client_timeline,
    message_history,
    message_row,
)
from dashboards.api import ApiRoutes, json_response
from dashboards.context import BODY, gateway, principal
from dashboards.errors import ApiError, bad_request
from dashboards.filters import path_id
from dashboards.masking import mask
from dashboards.reply_shapes import TEMPLATE_PREVIEW
from dashboards.schema import Body, Field
from dashboards.ticket_access import timeline_for
from routing.informing.config import ADDRESS_KIND
from routing.informing.templates import CHANNEL_FIELDS, TemplateDraft, TemplateError, render
from routing.informing.unsubscribe import BadToken, read_token

routes = ApiRoutes("informing")

TEMPLATE = Body("Template", {
    "name": Field(str, required=True, max_len=80), "topic": Field(str, required=True, max_len=40),
    "language": Field(str, max_len=8), "variables": Field(list, max_len=50, description="[{name, type, max_length}]"),
    "bodies": Field(dict, required=True, description="channel -> {field: body}"),
})
PREVIEW = Body("TemplatePreview", {
    "name": Field(str, required=True, max_len=80), "language": Field(str, max_len=8),
    "client_id": Field(int, required=True), "values": Field(dict, required=True),
})
MESSAGE = Body("OutboundMessage", {
    "client_id": Field(int, required=True), "template": Field(str, required=True, max_len=80),
    "topic": Field(str, required=True, max_len=40), "values": Field(dict, required=True),
    "dedupe_key": Field(str, required=True, max_len=200), "origin": Field(str, choices=ORIGINS),
    "priority": Field(int), "language": Field(str, max_len=8), "chain": Field(list, max_len=5),
})


def refused(exc: TemplateError) -> ApiError:
    """The reasons, each a locale key (``informing.problem.<code>``) with the field it concerns."""
    return bad_request("template_refused", str(exc),
                       problems=[{"code": p.code, "where": p.where, "detail": p.detail} for p in exc.problems])



@routes.route("GET", "/api/v1/informing/templates", "The newest version of every template",
              permission="informing.templates")
async def templates(request: web.Request) -> web.Response:
    db = gateway(request).services.autocommit
    return json_response({"templates": [t.as_json() for t in await list_templates(db)],
                          "channels": {ch: list(fields) for ch, fields in CHANNEL_FIELDS.items()}})


@routes.route("POST", "/api/v1/informing/templates", "Save a new version of a template; refused with every reason "
              "(unknown variable, body too long for its channel) when it cannot be used",
              permission="informing.templates", body=TEMPLATE,
              statuses={201: "Saved as a new version"})
async def save(request: web.Request) -> web.Response:
    gw = gateway(request)
    try:
        draft = TemplateDraft.from_mapping(request[BODY])
        stored, check = await save_template(gw.services.autocommit, draft, principal(request).login,
                                            gw.services.informing.settings.max_sms_segments)
    except TemplateError as exc:
        raise refused(exc) from None
    sms = check.sms_segments
    return json_response({"template": stored.as_json(), "sms": None if sms is None else {
        "encoding": sms.encoding, "units": sms.units, "segments": sms.segments, "per_segment": sms.per_segment}},
        status=201)


@routes.route("POST", "/api/v1/informing/templates/preview", "A template filled for a real client, on every "
              "channel it has a body for, with the address each would go to", permission="informing.templates",
              body=PREVIEW, statuses={404: "No such client or template"})
async def preview(request: web.Request) -> web.Response:
    body = request[BODY]
    db = gateway(request).services.autocommit
    template = await newest_template(db, body["name"], body.get("language", "uk"))
    if template is None:
        raise ApiError(404, "not_found", "template")
    addresses = (await client_addresses(db, [body["client_id"]])).get(body["client_id"], {})
    filled: dict[str, Any] = {}
    try:
        for channel in template.bodies:
            message = render(template.variables, template.bodies, channel, body["values"])
            filled[channel] = {"text": message.text, "subject": message.subject, "html": message.html,
                               "button_text": message.button_text, "button_url": message.button_url,
                               "image_url": message.image_url, "address": addresses.get(ADDRESS_KIND.get(channel, "")),
                               "segments": None if message.segments is None else message.segments.segments,
                               "encoding": None if message.segments is None else message.segments.encoding}
    except TemplateError as exc:
        raise refused(exc) from None
    return json_response(mask({"template": template.name, "version": template.version, "channels": filled},
                              TEMPLATE_PREVIEW, principal(request).role.mask))


@routes.route("POST", "/api/v1/informing/messages", "Send a message to a client (stored before it is accepted; "
              "the same dedupe_key is the same message)", permission="informing.send", body=MESSAGE,
              statuses={202: "Stored, to be sent"})
async def send(request: web.Request) -> web.Response:
    body = request[BODY]
    message = OutboundMessage(
        client_id=body["client_id"], topic=body["topic"], template=body["template"], variables=body["values"],
        origin=body.get("origin", "operator"), dedupe_key=body["dedupe_key"], priority=body.get("priority", 5),
        language=body.get("language", "uk"), chain=tuple(str(c) for c in body.get("chain", ())))
    unknown = [c for c in message.chain if c not in ADDRESS_KIND]
    if unknown:
        raise bad_request("invalid_field", f"chain: unknown channel {unknown[0]}", field="chain")
    try:
        queued = await gateway(request).services.informing.submit(message)
    except TemplateError as exc:
        raise refused(exc) from None
    return json_response({"message_id": queued.message_id, "created": queued.created}, status=202)


@routes.route("GET", "/api/v1/informing/messages/{message_id}", "A message's state and every recorded step",
              permission=("informing.send", "informing.templates"))
async def message(request: web.Request) -> web.Response:
    db = gateway(request).services.autocommit
    message_id = path_id(request, "message_id")
    row = await message_row(db, message_id)
    if row is None:
        raise ApiError(404, "not_found", "message")
    return json_response({"message": row, "steps": await message_history(db, message_id)})


EVENT = Body("InformingEvent", {
    "event": Field(str, required=True, max_len=60, description="payment_received, debt, planned_outage, ..."),
    "client_id": Field(int, required=True), "fields": Field(dict, required=True),
})


@routes.route("POST", "/api/v1/informing/events", "An event of another system (payment received, debt, planned "
              "outage by address): the messages its trigger rules set off", permission="informing.send", body=EVENT,
              statuses={202: "Accepted"})
async def event(request: web.Request) -> web.Response:
    body = request[BODY]
    try:
        queued = await gateway(request).services.informing.event(body["event"], body["client_id"], body["fields"])
    except TemplateError as exc:
        raise refused(exc) from None
    return json_response({"messages": [{"message_id": q.message_id, "created": q.created} for q in queued]},
                         status=202)


@routes.route("POST", "/api/v1/informing/unsubscribe/{token}", "One-click unsubscribe (RFC 8058): the client in "
              "the signed token opts out of every topic on its channel; a repeat changes nothing", public=True)
async def unsubscribe(request: web.Request) -> web.Response:
    settings = gateway(request).services.informing.settings
    if not settings.unsubscribe_secret:
        raise ApiError(404, "not_found", "unsubscribe")
    token = request.match_info["token"]
    try:
        wanted = read_token(settings.unsubscribe_secret, token)
    except BadToken:
        raise ApiError(404, "not_found", "unsubscribe") from None
    await record_consent(gateway(request).services.autocommit, wanted.client_id, wanted.channel, "*", False,
                         "one_click_unsubscribe", "client", f"unsubscribe:{token}")
    return json_response({"unsubscribed": True})


@routes.route("GET", "/api/v1/informing/clients/{client_id}/timeline", "Every message sent to or received from "
              "the client, newest first, with its channel and delivery state", permission="clients.search")
async def timeline(request: web.Request) -> web.Response:
    db = gateway(request).services.autocommit
    items = await client_timeline(db, path_id(request, "client_id"))
    return json_response({"items": timeline_for(principal(request), items)})
