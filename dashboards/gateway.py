"""The dashboard gateway as a Ray actor: it builds the engine's services in its own process and serves
the web application from there.

``ray.remote(GatewayActor).options(...).remote(services_factory, port)`` starts serving by itself (also
after Ray restarts the actor: the start is scheduled by the constructor, never only by a call of the
composition root); ``await gateway.start.remote()`` waits for it and returns the URL.
``services_factory`` is a picklable callable whose ``system()`` gives the actor system and whose call
with it gives the services (see :class:`actors.system.RayServicesFactory`).  ``port`` fixes the port
across restarts (the configured one when not given; the composition root resolves a configured 0 to a
free port once, so a restarted gateway serves where the first one did).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import Any

from aiohttp import web

from actors.runtime.heap import settle_heap
from dashboards.app import build_app
from dashboards.client_guard import GuardedRunner
from dashboards.context import GATEWAY
from dashboards.json_logs import JsonAccessLogger, configure

log = logging.getLogger(__name__)

RETRY_START_S = 0.5
START_WAIT_S = 30.0


class GatewayActor:
    def __init__(self, services_factory: Any, port: int | None = None) -> None:
        self.services_factory = services_factory
        self.port = port
        self.runner: web.AppRunner | None = None
        self.url: str | None = None
        self._serving = asyncio.get_event_loop().create_task(self._keep_starting())

    async def _keep_starting(self) -> str:
        """Serve; a port still held by the process Ray just replaced is tried again shortly."""
        while True:
            try:
                return await self._serve()
            except OSError as exc:
                log.warning("dashboard gateway cannot listen yet (%s); trying again", exc)
                await self._cleanup()
                await asyncio.sleep(RETRY_START_S)

    async def _serve(self) -> str:
        configure()
        services = self.services_factory(self.services_factory.system())
        http = services.settings.http
        port = http.port if self.port is None else self.port
        app = build_app(services)
        self.runner = GuardedRunner(app, app[GATEWAY].settings.limits, access_log_class=JsonAccessLogger)
        await self.runner.setup()
        site = web.TCPSite(self.runner, http.host, port, backlog=1024, reuse_address=True)
        await site.start()
        port = self.runner.addresses[0][1]  # the port the OS gave when 0 was asked
        self.url = f"http://{http.host}:{port}"
        log.info("dashboard gateway serving at %s", self.url)
        settle_heap()
        return self.url

    async def start(self) -> str:
        """Wait until the gateway serves; returns the URL.  Idempotent.  A port still taken after
        ``START_WAIT_S`` is an error for the caller (the gateway goes on trying meanwhile)."""
        try:
            return await asyncio.wait_for(asyncio.shield(self._serving), START_WAIT_S)
        except TimeoutError:
            raise RuntimeError(f"the dashboard gateway cannot listen on port {self.port}: is it taken?") from None

    async def _cleanup(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
            self.url = None

    async def stop(self) -> None:
        if not self._serving.done():
            self._serving.cancel()
        await self._cleanup()

    async def ping(self) -> str | None:
        return self.url

    async def getpid(self) -> int:
        return os.getpid()


def free_port(host: str) -> int:
    """A port free on ``host`` now (for a configured port 0 that must stay the same across restarts)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
