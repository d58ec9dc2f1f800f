"""A supervisor's notifications: SLA escalations and tickets raised by a client's message, kept until the
supervisor acknowledges them (so one that came while no wall was open is still there)."""

from __future__ import annotations

import time

from aiohttp import web

from crm_core import audit, notifications
from dashboards.api import ApiRoutes, json_response
from dashboards.context import BODY, gateway, principal
from dashboards.errors import ApiError
from dashboards.schema import Body, Field

routes = ApiRoutes("notifications")

ACK = Body("NotificationAck", {"comment": Field(str, max_len=500, nullable=True)})


@routes.route("GET", "/api/v1/notifications", "Own notifications, newest first (?open=1: not yet acknowledged)",
              permission="wall.view")
async def own_notifications(request: web.Request) -> web.Response:
    who = principal(request)
    async with gateway(request).services.db.connect() as conn:
        rows = await notifications.feed(conn, who.id, unacknowledged_only=request.query.get("open") in ("1", "true"))
    return json_response({"notifications": rows, "open": sum(1 for r in rows if r["acknowledged_at"] is None)})


@routes.route("POST", "/api/v1/notifications/{notification_id}/ack", "Acknowledge one of own notifications",
              permission="wall.view", body=ACK)
async def acknowledge(request: web.Request) -> web.Response:
    who = principal(request)
    raw = request.match_info["notification_id"]
    if not raw.isdigit():
        raise ApiError(404, "not_found", "notification")
    gw = gateway(request)
    async with gw.services.db.begin() as conn:
        row = await notifications.acknowledge(conn, who.id, int(raw), who.author)
        if row is None:
            raise ApiError(404, "not_found", "notification")
        await audit.record(conn, actor=who.author, action="notification.ack", entity="notification", entity_id=raw,
                           after={"comment": request[BODY].get("comment")})
    await gw.services.hub.publish([{"type": "notification_ack", "id": raw,
                                    "state": {"by": who.author, "at": time.time(), "key": row["key"]}}])
    return json_response({"notification": row})
