"""The route registry: each JSON endpoint is declared once with its permission, body and summary; the
declaration both guards the handler (login, role, strict body) and feeds the OpenAPI document."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from dashboards.context import AUTH_FAILURE, BODY, PRINCIPAL, gateway
from dashboards.errors import ApiError, forbidden
from dashboards.jsonutil import dumps
from dashboards.schema import Body, read_body
from dashboards.security import check_cookie_write

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    summary: str
    tag: str
    permission: tuple[str, ...] = ()  # any one of these; empty: any logged-in user
    body: Body | None = None
    public: bool = False
    query: dict[str, str] = field(default_factory=dict)  # name -> description
    produces: str = "application/json"
    # outcomes beyond those every endpoint of its kind has (dashboards/openapi.py); a 2xx among them
    # replaces the plain 200
    statuses: dict[int, str] = field(default_factory=dict)


class ApiRoutes:
    """A group of endpoints of one concern (agents, supervisor, tickets...)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.endpoints: list[tuple[Endpoint, Handler]] = []

    def route(self, method: str, path: str, summary: str, *, permission: str | tuple[str, ...] = (),
              body: Body | None = None, public: bool = False, query: dict[str, str] | None = None,
              produces: str = "application/json", statuses: dict[int, str] | None = None) -> Callable[[Handler], Handler]:
        perms = (permission,) if isinstance(permission, str) else permission
        endpoint = Endpoint(method, path, summary, self.tag, perms, body, public, query or {}, produces, statuses or {})

        def register(handler: Handler) -> Handler:
            self.endpoints.append((endpoint, _guarded(endpoint, handler)))
            return handler

        return register

    def add_to(self, app: web.Application) -> None:
        for endpoint, handler in self.endpoints:
            app.router.add_route(endpoint.method, routed_path(endpoint.path), handler)


RAW_BODY = {408: "The body did not arrive in time", 413: "Body too large", 415: "The body is not of the type named"}
"""The answers of an endpoint that reads its body itself (not declared with ``body=``)."""

NUMERIC_IDS = {"client_id": 18, "user_id": 9, "agent_id": 9, "point_id": 18, "reading_id": 18, "message_id": 18,
               "conversation_id": 18, "merge_id": 18}
"""Path parameters that are numbers, with the digits their column holds (integer: 9, bigint: 18): only
such numbers match them, so ``/clients/search`` is never taken for client ``search`` (nor its methods
offered in a 405's ``Allow``) and no id past its column's range reaches the database."""


def routed_path(path: str) -> str:
    for name, digits in NUMERIC_IDS.items():
        path = path.replace("{" + name + "}", "{" + name + r":\d{1," + str(digits) + "}}")
    return path


def _guarded(endpoint: Endpoint, handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        if not endpoint.public:
            who = request.get(PRINCIPAL)
            if who is None:
                raise ApiError(401, request.get(AUTH_FAILURE, "unauthenticated"))
            if endpoint.permission and not any(who.role.can(p) for p in endpoint.permission):
                raise forbidden(" | ".join(endpoint.permission))
            check_cookie_write(request)
        if endpoint.body is not None:
            request[BODY] = await read_body(request, endpoint.body, gateway(request).settings.limits.json_body_bytes)
        return await handler(request)

    guarded.__name__ = handler.__name__
    return guarded


def json_response(data: Any, status: int = 200, **kwargs: Any) -> web.Response:
    return web.json_response(data, status=status, dumps=dumps, **kwargs)
