"""The people who work in the system, by name: what the pickers offer (an agent, the author of a
change) and how a page names the author of a ticket event or an audit entry instead of showing an id."""

from __future__ import annotations

from aiohttp import web

from crm_core.users import list_users
from dashboards.api import ApiRoutes, json_response
from dashboards.context import gateway

routes = ApiRoutes("people")

NAMES_READERS = ("tickets.read", "tickets.read_own", "audit.read", "wall.view", "reports.view")


@routes.route("GET", "/api/v1/people", "Every user by name (active first), with role and whether they work "
              "conversations", permission=NAMES_READERS)
async def people(request: web.Request) -> web.Response:
    gw = gateway(request)
    async with gw.services.db.connect() as conn:
        users = await list_users(conn)
    roles = gw.settings.roles
    found = [{"id": u["id"], "name": u["full_name"], "role": u["role"], "active": u["active"],
              "agent": u["role"] in roles and roles[u["role"]].can("desktop")} for u in users]
    found.sort(key=lambda p: (not p["active"], p["name"].casefold()))
    return json_response({"people": found})
