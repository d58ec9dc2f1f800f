"""The generic API channel (web chat, web forms, the mobile app) and the webhooks of channels whose
peers call us (Viber, Telegram in webhook mode).

``POST /api/v1/inbound/<source>`` with ``X-Api-Key``: the key is checked before the body is read; the
body is checked strictly; the item is stored in the inbox (idempotent by ``dedupe_key`` within the
source) before the answer, so a 202 means it will not be lost and a repeat answers ``duplicate``; an item
the store keeps refusing is parked for an admin (202 with ``parked``), never refused to the client for
ever.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from typing import Any

from aiohttp import web

from channels.base import Address, Attachment, ChannelError, Inbound, WebhookRejected
from crm_core import api_keys
from dashboards.api import RAW_BODY, ApiRoutes, json_response
from dashboards.context import gateway
from dashboards.errors import ApiError, bad_request, cause, reason
from dashboards.schema import Body, Field, read_bytes, read_json
from dashboards.settings import ApiSource

log = logging.getLogger(__name__)
routes = ApiRoutes("inbound")

THREAD_PATTERN = re.compile(r"[A-Za-z0-9._:@-]{1,128}")
SENDER_KINDS = ("phone", "email", "web", "app", "telegram", "viber")
INBOUND = Body("ApiInbound", {
    "thread": Field(str, required=True, max_len=128, description="the client's own conversation id"),
    "dedupe_key": Field(str, required=True, max_len=128, description="unique per item; a repeat is a duplicate"),
    "from": Field(dict, required=True, description='{"kind": phone|email|web|app, "value", "name"?}'),
    "text": Field(str, required=True, max_len=20_000),
    "subject": Field(str, max_len=500, nullable=True),
    "attachments": Field(list, description='[{"filename", "content_type", "data": base64}]'),
})
SENDER = Body("Sender", {"kind": Field(str, required=True, choices=SENDER_KINDS),
                         "value": Field(str, required=True, max_len=320), "name": Field(str, max_len=200, nullable=True)})
ATTACHMENT = Body("ApiAttachment", {"filename": Field(str, required=True, max_len=255),
                                    "content_type": Field(str, required=True, max_len=127),
                                    "data": Field(str, required=True)})


async def _source(request: web.Request) -> ApiSource:
    gw = gateway(request)
    source = gw.settings.sources.get(request.match_info["source"])
    if source is None:
        raise ApiError(404, "unknown_source", request.match_info["source"])
    key = request.headers.get("X-Api-Key", "")
    valid = False
    if key:
        async with gw.services.db.connect() as conn:
            valid = await api_keys.key_is_valid(conn, source.name, key)
    if not key or not valid:
        gw.metrics.inbound.labels(source.name, "bad_key").inc()
        raise ApiError(401, "invalid_api_key")
    return source


def _attachments(raw: list[Any], request: web.Request) -> tuple[Attachment, ...]:
    limits = gateway(request).settings.limits
    if len(raw) > limits.attachments_per_message:
        raise bad_request("too_many_attachments", f"at most {limits.attachments_per_message}", field="attachments")
    items = []
    for index, entry in enumerate(raw):
        fields = ATTACHMENT.validate(entry)
        if len(fields["data"]) > limits.attachment_bytes * 4 // 3 + 4:
            raise ApiError(413, "attachment_too_large", f"attachments[{index}]: at most {limits.attachment_bytes} bytes")
        try:
            data = base64.b64decode(fields["data"], validate=True)
        except (binascii.Error, ValueError):
            raise bad_request("invalid_field", f"attachments[{index}].data: not base64", field="attachments") from None
        if len(data) > limits.attachment_bytes:
            raise ApiError(413, "attachment_too_large", f"attachments[{index}]: at most {limits.attachment_bytes} bytes")
        items.append(Attachment(fields["filename"], fields["content_type"], len(data), data=data))
    return tuple(items)


def to_inbound(source: ApiSource, body: dict[str, Any], request: web.Request) -> Inbound:
    if not THREAD_PATTERN.fullmatch(body["thread"]):
        raise bad_request("invalid_field", "thread: letters, digits and . _ : @ - only", field="thread")
    sender = SENDER.validate(body["from"])
    return Inbound(
        channel=source.channel,  # type: ignore[arg-type]
        thread_key=f"{source.channel}:{source.name}:{body['thread']}",
        dedupe_key=f"api:{source.name}:{body['dedupe_key']}",
        sender=Address(sender["kind"], sender["value"].strip(), sender.get("name")),
        text=body["text"], subject=body.get("subject"),
        attachments=_attachments(body.get("attachments") or [], request),
        metadata={"source": source.name})


@routes.route("POST", "/api/v1/inbound/{source}", "The generic API channel: a web chat message, a web form or a "
              "mobile-app request (header X-Api-Key)", public=True, body=None,
              statuses={200: "Sent before (duplicate)", 202: "Stored (or parked for an administrator)",
                        401: "Missing or wrong X-Api-Key", **RAW_BODY})
async def receive(request: web.Request) -> web.Response:
    gw = gateway(request)
    source = await _source(request)
    body = INBOUND.validate(await read_json(request, gw.settings.limits.inbound_body_bytes))
    inbound = to_inbound(source, body, request)
    taken = await gw.services.inbox.intake.take(inbound)
    thread = body["thread"]
    if taken.parked_id is not None:  # kept for an admin to replay: the client must not send it again
        gw.metrics.inbound.labels(source.name, "parked").inc()
        return json_response({"parked": True, "thread": thread}, status=202)
    if taken.duplicate:
        gw.metrics.inbound.labels(source.name, "duplicate").inc()
        return json_response({"duplicate": True, "thread": thread})
    gw.metrics.inbound.labels(source.name, "stored").inc()
    return json_response({"inbox_id": taken.inbox_id, "thread": thread}, status=202)


@routes.route("POST", "/webhooks/{channel}", "A channel peer's webhook (Viber callbacks, Telegram webhook mode)",
              public=True)
async def webhook(request: web.Request) -> web.Response:
    gw = gateway(request)
    limit = gw.settings.limits.inbound_body_bytes
    body = await read_bytes(request, limit)
    channel = request.match_info["channel"]
    try:
        reply = await gw.services.channels.webhook(channel, dict(request.headers), body)
    except WebhookRejected as exc:
        refusal = cause(exc)
        status, why = getattr(refusal, "status", 400), getattr(refusal, "reason", "")
        gw.metrics.webhooks_refused.labels(channel[:16], str(status)).inc()
        raise ApiError(status, "webhook_rejected", why) from None
    except ChannelError as exc:
        raise ApiError(404, "unknown_channel", reason(exc)) from None
    return web.Response(status=reply.status, body=reply.body, content_type=reply.content_type)
