"""The role matrix through the API: read it (with every permission and maskable field there is), save a
new version (validated; audited; in force at once)."""

from __future__ import annotations

from aiohttp import web

from crm_core import role_matrix as versions
from dashboards import role_matrix, security_events
from dashboards.api import ApiRoutes, json_response
from dashboards.context import BODY, gateway, principal
from dashboards.errors import ApiError, bad_request
from dashboards.schema import Body, Field
from dashboards.settings import MASKABLE, PERMISSIONS

routes = ApiRoutes("administration")

NEW_MATRIX = Body("RoleMatrix", {"version": Field(int, required=True, description="the version this change is made on"),
                                 "roles": Field(dict, required=True,
                                                description='{"role": {"permissions": [...], "mask": [...]}}')})


@routes.route("GET", "/api/v1/admin/roles", "The role matrix in force, its version, every permission and "
              "maskable field", permission="admin.roles")
async def read(request: web.Request) -> web.Response:
    gw = gateway(request)
    return json_response({"version": role_matrix.version(gw), "roles": role_matrix.as_tables(gw.sessions.roles),
                          "permissions": list(PERMISSIONS), "maskable": list(MASKABLE)})


@routes.route("PUT", "/api/v1/admin/roles", "Save a new version of the role matrix (in force at once)",
              permission="admin.roles", body=NEW_MATRIX)
async def save(request: web.Request) -> web.Response:
    gw, who, body = gateway(request), principal(request), request[BODY]
    try:
        roles = role_matrix.checked(body["roles"], gw.settings.roles)
    except ValueError as exc:
        raise bad_request("invalid_role_matrix", str(exc), field="roles") from None
    before = role_matrix.as_tables(gw.sessions.roles)
    try:
        async with gw.services.db.begin() as conn:
            number = await versions.save(conn, who.author, role_matrix.as_tables(roles), on_version=body["version"],
                                         before=before)
    except versions.StaleMatrix as exc:
        raise ApiError(409, "stale_role_matrix", f"version {exc.current}") from None
    role_matrix.put_in_force(gw, number, roles)
    security_events.emit(request, "role_matrix.changed", version=number,
                         roles=sorted(n for n in roles if role_matrix.as_tables(roles)[n] != before.get(n)))
    return json_response({"version": number, "roles": role_matrix.as_tables(roles)})
