"""The dashboard gateway as a Ray actor: it builds the engine's services in its own process and serves
the web application from there.

``ray.remote(GatewayActor).options(...).remote(services_factory)`` then ``await gateway.start.remote()``
returns the URL; ``services_factory`` is a picklable callable whose ``system()`` gives the actor system
and whose call with it gives the services (see :class:`actors.system.RayServicesFactory`).
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from actors.runtime.heap import settle_heap
from dashboards.app import build_app
from dashboards.json_logs import JsonAccessLogger, configure

log = logging.getLogger(__name__)


class GatewayActor:
    def __init__(self, services_factory: Any) -> None:
        self.services_factory = services_factory
        self.runner: web.AppRunner | None = None
        self.url: str | None = None

    async def start(self) -> str:
        """Serve on the configured host and port (port 0: any free one); returns the URL.  Idempotent."""
        if self.url is not None:
            return self.url
        configure()
        services = self.services_factory(self.services_factory.system())
        http = services.settings.http
        self.runner = web.AppRunner(build_app(services), access_log_class=JsonAccessLogger)
        await self.runner.setup()
        site = web.TCPSite(self.runner, http.host, http.port, backlog=1024)
        await site.start()
        port = self.runner.addresses[0][1]  # the port the OS gave when 0 was asked
        self.url = f"http://{http.host}:{port}"
        log.info("dashboard gateway serving at %s", self.url)
        settle_heap()
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
            self.url = None

    async def ping(self) -> str | None:
        return self.url
