"""Keys of the inbound API sources: listed (never the key itself), rotated (the new key is in this one
answer only; the old ones stop at once) and disabled; each change audited."""

from __future__ import annotations

from aiohttp import web

from crm_core import api_keys
from dashboards import security_events
from dashboards.api import ApiRoutes, json_response
from dashboards.context import gateway, principal
from dashboards.errors import ApiError

routes = ApiRoutes("administration")

PERMISSION = "admin.keys"


def _source(request: web.Request) -> str:
    source = request.match_info["source"]
    if source not in gateway(request).settings.sources:
        raise ApiError(404, "unknown_source", source)
    return source


@routes.route("GET", "/api/v1/admin/api-keys", "The inbound sources and their keys (never a key itself)",
              permission=PERMISSION)
async def list_keys(request: web.Request) -> web.Response:
    gw = gateway(request)
    async with gw.services.db.connect() as conn:
        keys = await api_keys.list_keys(conn)
    return json_response({"sources": [{"name": s.name, "channel": s.channel} for s in gw.settings.sources.values()],
                          "keys": [k.public() for k in keys]})


@routes.route("POST", "/api/v1/admin/api-keys/{source}/rotate", "A new key for the source (shown in this answer "
              "only); its earlier keys stop working", permission=PERMISSION, statuses={201: "Issued"})
async def rotate(request: web.Request) -> web.Response:
    source = _source(request)
    async with gateway(request).services.db.begin() as conn:
        issued = await api_keys.rotate_key(conn, source, principal(request).author)
    security_events.emit(request, "api_key.rotated", source=source, key_id=issued.id)
    return json_response({"id": issued.id, "source": source, "key": issued.key}, status=201,
                         headers={"Cache-Control": "no-store"})


@routes.route("POST", "/api/v1/admin/api-keys/{source}/disable", "Every key of the source stops working",
              permission=PERMISSION)
async def disable(request: web.Request) -> web.Response:
    source = _source(request)
    async with gateway(request).services.db.begin() as conn:
        disabled = await api_keys.disable_keys(conn, source, principal(request).author)
    security_events.emit(request, "api_key.disabled", source=source, key_ids=disabled)
    return json_response({"source": source, "disabled": disabled})
