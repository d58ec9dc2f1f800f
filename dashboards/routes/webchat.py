"""The public web-chat API behind the embeddable widget (``/static/widget/widget.js``).

The widget holds no API key.  ``POST /api/v1/webchat/sessions`` issues a thread and a signed visitor
token bound to it; ``POST /api/v1/webchat/messages`` (header ``X-Visitor-Token``) stores the visitor's
message in the inbox like any channel item (idempotent by the widget's own key, so a retried send is
harmless); ``GET /api/v1/webchat/stream?token=`` is a server-sent event stream of the transcript and
then the agents' replies, resumable with ``Last-Event-ID``.  Only pages of the allowed origins (and the
gateway's own) may call it; each visitor is rate limited.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from channels.base import Address, Inbound
from dashboards.api import RAW_BODY, ApiRoutes, json_response
from dashboards.context import GATEWAY, gateway
from dashboards.errors import ApiError, bad_request
from dashboards.middleware import error_response
from dashboards.routes.webchat_feed import VisitorFeed, client_key_prefix, thread_key
from dashboards.routes.webchat_stream import ThreadDispatch, visitor_stream
from dashboards.routes.webchat_visitor import RateLimiter, Visitor, VisitorTokens, WebchatSettings
from dashboards.schema import Body, Field, read_json

routes = ApiRoutes("webchat")

PREFIX = "/api/v1/webchat/"
TOKEN_HEADER = "X-Visitor-Token"
KEY_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
PHONE_PATTERN = re.compile(r"\+?[0-9][0-9 ()-]{4,30}")
SESSION = Body("WebchatSession", {
    "source": Field(str, required=True, max_len=64, description="the [webchat] source the widget posts to"),
    "name": Field(str, max_len=100, nullable=True, description="the visitor's name, if given"),
    "phone": Field(str, max_len=32, nullable=True, description="the visitor's phone, if given (finds the client)"),
})
PREFLIGHT_HEADERS = {"Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                     "Access-Control-Allow-Headers": f"Content-Type, {TOKEN_HEADER}, Last-Event-ID",
                     "Access-Control-Max-Age": "600"}


@dataclass
class WebchatDesk:
    """The web chat's settings and its per-visitor bookkeeping in this gateway."""

    settings: WebchatSettings
    tokens: VisitorTokens
    limiter: RateLimiter
    dispatch: ThreadDispatch
    message: Body
    streams: Counter[str] = field(default_factory=Counter)

    @classmethod
    def from_settings(cls, settings: WebchatSettings, dispatch: ThreadDispatch) -> WebchatDesk:
        return cls(settings, VisitorTokens(settings.secret, settings.token_ttl_s),
                   RateLimiter(settings.messages_per_minute, settings.burst), dispatch,
                   Body("WebchatMessage", {
                       "text": Field(str, required=True, max_len=settings.max_text_chars),
                       "dedupe_key": Field(str, required=True, max_len=64,
                                           description="the widget's own id of the message; a retry repeats it")}))

    def origin_allowed(self, request: web.Request) -> bool:
        """A request without ``Origin`` is no browser page's (or the gateway's own page's): allowed."""
        origin = request.headers.get("Origin")
        if origin is None:
            return True
        origin = origin.rstrip("/")
        if origin in self.settings.allowed_origins:
            return True
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc == request.host


WEBCHAT: web.AppKey[WebchatDesk] = web.AppKey("webchat", WebchatDesk)


def install(app: web.Application, data_dir: Path) -> None:
    """Load ``[webchat]``, answer CORS preflights and add CORS headers to every web-chat answer (errors
    included, so the widget can read them)."""
    gw = app[GATEWAY]
    settings = WebchatSettings.load(Path(gw.services.settings.config_dir), data_dir, gw.settings.sources)
    desk = app[WEBCHAT] = WebchatDesk.from_settings(settings, ThreadDispatch(gw.relay))
    app.router.add_route("OPTIONS", PREFIX + "{tail:.*}", preflight)
    app.on_response_prepare.append(_cors_headers)

    async def stop_dispatch(app: web.Application) -> None:
        await desk.dispatch.stop()

    app.on_cleanup.append(stop_dispatch)


async def _cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    origin = request.headers.get("Origin")
    if origin and request.path.startswith(PREFIX) and request.app[WEBCHAT].origin_allowed(request):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"
        response.headers["Vary"] = "Origin"


async def preflight(request: web.Request) -> web.Response:
    _admit(request)
    return web.Response(status=204, headers=PREFLIGHT_HEADERS)


def _admit(request: web.Request) -> WebchatDesk:
    desk = request.app[WEBCHAT]
    if not desk.origin_allowed(request):
        raise ApiError(403, "origin_not_allowed", request.headers.get("Origin"))
    return desk


def _source(desk: WebchatDesk, name: str) -> str:
    if name not in desk.settings.sources:
        raise ApiError(404, "unknown_source", name)
    return name


def _visitor(desk: WebchatDesk, token: str | None) -> Visitor:
    visitor = desk.tokens.check(token)
    _source(desk, visitor.source)
    return visitor


@routes.route("GET", "/api/v1/webchat/config", "The widget's strings in the visitor's language and its limits",
              public=True, query={"source": "the [webchat] source", "lang": "uk (default) or en"},
              statuses={403: "The page's origin may not embed the widget", 404: "No such source"})
async def widget_config(request: web.Request) -> web.Response:
    desk = _admit(request)
    gw = gateway(request)
    source = _source(desk, request.query.get("source", ""))
    lang = gw.locales.pick(request)
    strings = {key.removeprefix("webchat."): text for key, text in gw.locales.table(lang).items()
               if key.startswith("webchat.")}
    return json_response({"lang": lang, "source": source, "strings": strings,
                          "max_text_chars": desk.settings.max_text_chars},
                         headers={"Cache-Control": "max-age=300"})


@routes.route("POST", "/api/v1/webchat/sessions", "Start a visitor's chat: a new thread and a visitor token bound "
              "to it (optional name and phone)", public=True,
              statuses={201: "Started", 403: "The page's origin may not embed the widget", 404: "No such source", **RAW_BODY})
async def start_session(request: web.Request) -> web.Response:
    desk = _admit(request)
    body = SESSION.validate(await read_json(request, desk.settings.max_body_bytes))
    source = _source(desk, body["source"])
    name = (body.get("name") or "").strip() or None
    phone = (body.get("phone") or "").strip() or None
    if phone is not None and not PHONE_PATTERN.fullmatch(phone):
        raise bad_request("invalid_field", "phone: digits, spaces, ( ) - and a leading +", field="phone")
    visitor, token = desk.tokens.issue(source, name, phone)
    return json_response({"thread": visitor.thread, "token": token, "expires_at": visitor.expires_at}, status=201)


@routes.route("POST", "/api/v1/webchat/messages", f"A visitor's message (header {TOKEN_HEADER}); a repeated "
              "dedupe_key answers duplicate", public=True,
              statuses={200: "Sent before (duplicate)", 202: "Stored (or parked for an administrator)",
                        401: "Missing, forged or expired visitor token", 403: "The page's origin may not embed the widget",
                        429: "Too many messages; wait Retry-After seconds", **RAW_BODY})
async def send_message(request: web.Request) -> web.Response:
    desk = _admit(request)
    gw = gateway(request)
    visitor = _visitor(desk, request.headers.get(TOKEN_HEADER))
    wait_s = desk.limiter.take(visitor.thread)
    if wait_s:
        gw.metrics.inbound.labels(visitor.source, "rate_limited").inc()
        retry_after = max(1, math.ceil(wait_s))
        response = error_response(request, 429, "rate_limited", f"retry after {retry_after} s",
                                  retry_after_s=retry_after)
        response.headers["Retry-After"] = str(retry_after)
        return response
    body = desk.message.validate(await read_json(request, desk.settings.max_body_bytes))
    key = body["dedupe_key"]
    if not KEY_PATTERN.fullmatch(key):
        raise bad_request("invalid_field", "dedupe_key: letters, digits and . _ : - only", field="dedupe_key")
    sender = (Address("phone", visitor.phone, visitor.name) if visitor.phone
              else Address("web", visitor.thread, visitor.name))
    inbound = Inbound(channel="webchat", thread_key=thread_key(visitor.source, visitor.thread),
                      dedupe_key=client_key_prefix(visitor.source, visitor.thread) + key, sender=sender,
                      text=body["text"], metadata={"source": visitor.source})
    taken = await gw.services.inbox.intake.take(inbound)
    if taken.parked_id is not None:
        gw.metrics.inbound.labels(visitor.source, "parked").inc()
        return json_response({"id": key, "parked": True}, status=202)
    if taken.duplicate:
        gw.metrics.inbound.labels(visitor.source, "duplicate").inc()
        return json_response({"id": key, "duplicate": True})
    gw.metrics.inbound.labels(visitor.source, "stored").inc()
    return json_response({"id": key, "inbox_id": taken.inbox_id}, status=202)


@routes.route("GET", "/api/v1/webchat/stream", "The visitor's transcript, then the agents' replies as they "
              "happen (server-sent events; resume with Last-Event-ID)", public=True,
              query={"token": "the visitor token"}, produces="text/event-stream")
async def stream(request: web.Request) -> web.StreamResponse:
    desk = _admit(request)
    visitor = _visitor(desk, request.query.get("token") or request.headers.get(TOKEN_HEADER))
    if desk.streams[visitor.thread] >= desk.settings.streams_per_visitor:
        raise ApiError(429, "too_many_streams", f"at most {desk.settings.streams_per_visitor}")
    desk.streams[visitor.thread] += 1
    try:
        feed = VisitorFeed(gateway(request), visitor.source, visitor.thread, desk.settings.history_messages)
        return await visitor_stream(request, desk.dispatch, feed.thread_key, feed.select, feed.snapshot)
    finally:
        desk.streams[visitor.thread] -= 1
        if desk.streams[visitor.thread] <= 0:
            del desk.streams[visitor.thread]
