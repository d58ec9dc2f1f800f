"""Sessions: a user sees and ends their own, an administrator any user's.  An ended session stops at
once (the gateway's cache of it is dropped)."""

from __future__ import annotations

from aiohttp import web

from crm_core import users
from crm_core.users import SESSION_ID_CHARS, token_digest
from dashboards import security_events
from dashboards.api import ApiRoutes, json_response
from dashboards.context import TOKEN, gateway, principal
from dashboards.errors import ApiError

routes = ApiRoutes("sessions")


async def _listed(request: web.Request, user_id: int) -> web.Response:
    async with gateway(request).services.db.connect() as conn:
        sessions = await users.list_sessions(conn, user_id)
    current = token_digest(request[TOKEN])[:SESSION_ID_CHARS] if request.get(TOKEN) else None
    return json_response({"sessions": [{**s, "current": s["id"] == current} for s in sessions]})


async def _end(request: web.Request, user_id: int, session_id: str | None) -> int:
    gw = gateway(request)
    async with gw.services.db.begin() as conn:
        if session_id is None:
            ended = len(await users.end_sessions(conn, user_id))
        else:
            ended = int(await users.end_session(conn, user_id, session_id))
    gw.sessions.forget_user(user_id)
    await security_events.record(request, "sessions.ended", entity_id=user_id, user_id=user_id, ended=ended,
                                 session=session_id or "all")
    return ended


def _user_id(request: web.Request) -> int:
    raw = request.match_info["user_id"]
    if not raw.isdigit():
        raise ApiError(404, "not_found", "user")
    return int(raw)


@routes.route("GET", "/api/v1/me/sessions", "My open sessions (which one is this)")
async def my_sessions(request: web.Request) -> web.Response:
    return await _listed(request, principal(request).id)


@routes.route("POST", "/api/v1/me/sessions/{session_id}/end", "End one of my sessions")
async def end_mine(request: web.Request) -> web.Response:
    if not await _end(request, principal(request).id, request.match_info["session_id"]):
        raise ApiError(404, "not_found", "session")
    return web.Response(status=204)


@routes.route("GET", "/api/v1/admin/users/{user_id}/sessions", "A user's open sessions", permission="admin.users")
async def user_sessions(request: web.Request) -> web.Response:
    return await _listed(request, _user_id(request))


@routes.route("POST", "/api/v1/admin/users/{user_id}/sessions/end", "End every session of a user",
              permission="admin.users")
async def end_users(request: web.Request) -> web.Response:
    return json_response({"ended": await _end(request, _user_id(request), None)})
