"""Health, metrics, the OpenAPI document and the vocabularies the pages need (statuses, transitions,
categories, types, priorities, reply templates)."""

from __future__ import annotations

import asyncio
import hmac
import os

from aiohttp import web
from sqlalchemy import text

from actors.routing_rules import routing_channel
from dashboards.api import ApiRoutes, json_response
from dashboards.context import gateway
from dashboards.errors import ApiError
from dashboards.filters import CHANNELS
from dashboards.metrics import metrics_endpoint

routes = ApiRoutes("system")

HEALTH_DB_TIMEOUT_S = 2.0
OPENAPI_KEY: web.AppKey[dict] = web.AppKey("openapi", dict)


@routes.route("GET", "/healthz", "Liveness and readiness: database reachable, event feed followed", public=True)
async def healthz(request: web.Request) -> web.Response:
    gw = gateway(request)
    database = True
    try:
        async with asyncio.timeout(HEALTH_DB_TIMEOUT_S), gw.services.db.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        database = False
    ok = database and gw.relay.healthy
    return json_response({"status": "ok" if ok else "degraded", "database": database,
                          "events": gw.relay.healthy, "seq": gw.relay.seq}, status=200 if ok else 503)


@routes.route("GET", "/metrics", "Prometheus metrics (header Authorization: Bearer <the token in the environment "
              "variable named by [metrics] token_env>; closed while it is unset)", public=True, produces="text/plain",
              statuses={401: "Wrong or missing token", 403: "Closed: no token configured"})
async def metrics(request: web.Request) -> web.Response:
    expected = os.environ.get(gateway(request).settings.metrics_token_env, "")
    if not expected:
        raise ApiError(403, "metrics_closed")
    header = request.headers.get("Authorization", "")
    given = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError(401, "invalid_metrics_token")
    return await metrics_endpoint(request)


@routes.route("GET", "/api/v1/openapi.json", "This document", public=True)
async def openapi(request: web.Request) -> web.Response:
    return json_response(request.app[OPENAPI_KEY])


@routes.route("GET", "/api/v1/vocabulary", "Ticket statuses and transitions, categories, types, priorities, "
              "channels and reply templates")
async def vocabulary(request: web.Request) -> web.Response:
    gw = gateway(request)
    tickets = gw.services.settings.tickets
    return json_response({
        "statuses": list(tickets.statuses),
        "transitions": {status: sorted(targets) for status, targets in tickets.transitions.items()},
        "categories": dict(tickets.categories), "types": list(tickets.types),
        "priorities": list(tickets.priorities), "channels": list(CHANNELS),
        "templates": list(gw.settings.reply_templates), "heartbeat_s": gw.settings.heartbeat_s,
        "queues": sorted(gw.services.router.current.queues),
        "channel_kinds": {channel: routing_channel(channel) for channel in CHANNELS}})
