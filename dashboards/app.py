"""The dashboard gateway's web application: the JSON API, the live event streams, the API channel and
webhooks, health and metrics, the OpenAPI document and the pages.

``build_app(services)`` takes the engine's services (see :mod:`actors.services`): ``system`` (actor
asks), ``db`` (AsyncEngine), ``crm`` (identify / search / client card), ``hub`` (snapshot and
``events_after``), ``inbox`` (the API channel's sink), ``channels`` (webhooks, click-to-call) and
``settings`` (``config_dir``, ``engine.data_dir``, ``tickets``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from dashboards import openapi
from dashboards.billing import close_billing
from dashboards.context import GATEWAY, Gateway
from dashboards.i18n import Locales
from dashboards.layouts import LayoutStore
from dashboards.login_guard import LoginGuard
from dashboards.metrics import GatewayMetrics, measure
from dashboards.middleware import authenticate, refuse_clearly
from dashboards.relay import EventRelay
from dashboards.role_matrix import follow_versions
from dashboards.routes import (
    admin_keys,
    admin_roles,
    admin_users,
    agents,
    auth,
    client_billing,
    client_edits,
    client_passport,
    clients,
    conversations,
    inbound,
    informing,
    meter_readings,
    notifications,
    parked,
    people,
    reports,
    supervisor,
    system,
    tickets,
    user_sessions,
    webchat,
)
from dashboards.routes.pages import add_pages
from dashboards.security import add_security_headers
from dashboards.session_purge import purge_expired
from dashboards.sessions import SessionCache
from dashboards.settings import DashboardSettings

API_GROUPS = (system.routes, auth.routes, agents.routes, conversations.routes, clients.routes,
              client_edits.routes, client_billing.routes, client_passport.routes,
              meter_readings.routes, tickets.routes,
              supervisor.routes, reports.routes, inbound.routes, webchat.routes, notifications.routes,
              parked.routes, admin_users.routes, admin_keys.routes, admin_roles.routes, user_sessions.routes,
              informing.routes, people.routes)
MAX_REQUEST_BYTES = 16 * 1024 * 1024


def build_app(services: Any, settings: DashboardSettings | None = None) -> web.Application:
    config_dir = Path(services.settings.config_dir)
    settings = settings or DashboardSettings.load(config_dir)
    metrics = GatewayMetrics()
    relay = EventRelay(services.hub, ring_size=settings.relay_ring,
                       on_events=lambda events: _count(metrics, events))
    data_dir = Path(getattr(getattr(services.settings, "engine", None), "data_dir", "var"))
    gateway = Gateway(services=services, settings=settings,
                      locales=Locales(settings.languages, settings.default_language), relay=relay, metrics=metrics,
                      layouts=LayoutStore(services.db, settings),
                      sessions=SessionCache(services.db, settings), logins=LoginGuard(settings.login))
    app = web.Application(middlewares=[measure, refuse_clearly, authenticate],
                          client_max_size=MAX_REQUEST_BYTES)
    app[GATEWAY] = gateway
    app.on_response_prepare.append(add_security_headers)
    for group in API_GROUPS:
        group.add_to(app)
    app[system.OPENAPI_KEY] = openapi.document(API_GROUPS)
    webchat.install(app, data_dir)
    add_pages(app)

    async def follow_events(app: web.Application) -> Any:
        await relay.start()
        yield
        await relay.stop()

    app.cleanup_ctx.append(follow_events)
    app.on_cleanup.append(close_billing)
    app.cleanup_ctx.append(purge_expired)
    app.cleanup_ctx.append(follow_versions)
    app.on_shutdown.append(end_streams)
    return app


async def end_streams(app: web.Application) -> None:
    """Open event streams end when the gateway shuts down (their pages reconnect to the next one)."""
    for handler in list(app[GATEWAY].streams):
        handler.cancel()


def _count(metrics: GatewayMetrics, events: list[dict[str, Any]]) -> None:
    metrics.events.inc(len(events))
    metrics.relay_seq.set(events[-1]["seq"])
