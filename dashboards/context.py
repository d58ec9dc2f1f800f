"""What every request handler reaches: the engine's services, the gateway's settings and its helpers,
and who is asking."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from actors.runtime.ref import ActorRef
from dashboards.settings import DashboardSettings, Role

if TYPE_CHECKING:
    from dashboards.i18n import Locales
    from dashboards.layouts import LayoutStore
    from dashboards.login_guard import LoginGuard
    from dashboards.metrics import GatewayMetrics
    from dashboards.relay import EventRelay
    from dashboards.sessions import SessionCache


@dataclass(frozen=True, slots=True)
class Principal:
    """The logged-in user behind a request."""

    id: int
    login: str
    full_name: str
    role: Role
    extension: str | None = None

    @property
    def author(self) -> str:
        """How the user is named in ticket events and the audit log."""
        return f"agent:{self.id}" if self.role.can("desktop") else f"user:{self.id}"

    @property
    def agent_ref(self) -> ActorRef:
        return ActorRef("agent", str(self.id))

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "login": self.login, "full_name": self.full_name, "role": self.role.name,
                "permissions": sorted(self.role.permissions), "mask": sorted(self.role.mask),
                "extension": self.extension}


@dataclass
class Gateway:
    services: Any
    settings: DashboardSettings
    locales: Locales
    relay: EventRelay
    metrics: GatewayMetrics
    layouts: LayoutStore
    sessions: SessionCache
    logins: LoginGuard
    extra: dict[str, Any] = field(default_factory=dict)
    streams: set[asyncio.Task[Any]] = field(default_factory=set)
    """The open event streams' handlers: ended when the gateway shuts down, so a stop never waits on a
    screen left open."""


GATEWAY: web.AppKey[Gateway] = web.AppKey("gateway", Gateway)
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal", Principal)
TOKEN: web.RequestKey[str] = web.RequestKey("token", str)
AUTH_FAILURE: web.RequestKey[str] = web.RequestKey("auth_failure", str)
BODY: web.RequestKey[dict] = web.RequestKey("body", dict)


def gateway(request: web.Request) -> Gateway:
    return request.app[GATEWAY]


def principal(request: web.Request) -> Principal:
    """The caller; routes declared public never ask for it."""
    return request[PRINCIPAL]
