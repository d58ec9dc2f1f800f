"""Slow and greedy clients at the connection level, as nginx guards a server: a client has
``[limits] header_read_s`` to send a request's headers (else 408 and the connection is closed; nginx's
``client_header_timeout``), and one address holds at most ``[limits] connections_per_address`` open
connections (one more is answered 503 and closed; nginx's ``limit_conn``).  The body has its own bound,
``body_read_s`` (:func:`dashboards.schema.read_bytes`).

``GuardedRunner(app, limits)`` is the :class:`aiohttp.web.AppRunner` that serves the gateway so.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from dashboards.settings import Limits

log = logging.getLogger(__name__)

HEADERS_LATE = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
TOO_MANY = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class GuardedServer(web.Server):
    """The server of one application: counts each address's open connections for its handlers."""

    def __init__(self, *args: Any, limits: Limits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self.open_by_address: Counter[str] = Counter()

    def __call__(self) -> RequestHandler:
        return GuardedConnection(self, loop=self._loop, **self._kwargs)


class GuardedConnection(RequestHandler):
    """One client connection: refused when its address holds too many, closed when a request's headers
    do not arrive in time."""

    def __init__(self, manager: GuardedServer, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._guard = manager
        self._address: str | None = None
        self._headers_due: asyncio.TimerHandle | None = None
        self._requests_seen = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else "local"
        limit = self._guard.limits.connections_per_address
        if limit and self._guard.open_by_address[address] >= limit:
            log.warning("connection from %s refused: it holds %d connections already", address, limit)
            self._refuse(transport, TOO_MANY)
            return
        self._address = address
        self._guard.open_by_address[address] += 1
        self._expect_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._request_count > self._requests_seen:  # a whole request head arrived
            self._requests_seen = self._request_count
            self._headers_arrived()
        elif self._headers_due is None and self._current_request is None:  # the next request begins
            self._expect_headers()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._headers_arrived()
        if self._address is not None:
            self._guard.open_by_address[self._address] -= 1
            if self._guard.open_by_address[self._address] <= 0:
                del self._guard.open_by_address[self._address]
            self._address = None
        super().connection_lost(exc)

    def _expect_headers(self) -> None:
        seconds = self._guard.limits.header_read_s
        if seconds > 0:
            self._headers_due = self._loop.call_later(seconds, self._headers_late)

    def _headers_arrived(self) -> None:
        if self._headers_due is not None:
            self._headers_due.cancel()
            self._headers_due = None

    def _headers_late(self) -> None:
        self._headers_due = None
        if self.transport is not None and self._current_request is None:
            log.info("connection from %s closed: no whole request head within %.0f s", self._address,
                     self._guard.limits.header_read_s)
            self._refuse(self.transport, HEADERS_LATE)

    def _refuse(self, transport: asyncio.BaseTransport, answer: bytes) -> None:
        if isinstance(transport, asyncio.WriteTransport):
            transport.write(answer)
        self.force_close()
        transport.close()


class GuardedRunner(web.AppRunner):
    """An application runner whose connections are :class:`GuardedConnection`."""

    def __init__(self, app: web.Application, limits: Limits, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._limits = limits

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()
        return GuardedServer(plain.request_handler, request_factory=plain.request_factory,
                             handler_cancellation=plain.handler_cancellation, loop=plain._loop,
                             limits=self._limits, **plain._kwargs)
