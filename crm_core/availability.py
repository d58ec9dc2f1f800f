"""Whether this process reaches its database, and connections that are still good.

Every connection of a process to one database is opened through that database's
:class:`DatabaseWatch`.  A connect that fails (the server is stopped, restarting or unreachable within
``CONNECT_TIMEOUT_S``) marks the database down.  While it is down, connects do not each try on their own:
they share one attempt to reach the server and wait for it at most ``JOIN_S``; when it fails they fail
with :class:`DatabaseUnavailable`, so every request of an outage gets its answer fast and an unreachable
server is not sent a connection per request.  The first attempt that succeeds marks the database up and
counts a recovery; pools that keep connections across an outage start afresh on it (see
:class:`crm_core.driver_sql.AutocommitPool`).

A pooled connection the server closed (a restart ends every session with a goodbye message) has input
waiting on its socket while it sits idle; :func:`closed_by_server` finds that without a round trip, so the
pools discard it at checkout instead of failing a statement on it.
"""

from __future__ import annotations

import asyncio
import logging
import select
import weakref
from typing import Any

import psycopg

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 3
JOIN_S = 0.5


class DatabaseUnavailable(psycopg.OperationalError):
    """The database did not answer the last attempt to reach it."""

    def __init__(self, message: str = "the database is unavailable") -> None:
        super().__init__(message)


class DatabaseWatch:
    def __init__(self, dsn: str, join_s: float = JOIN_S) -> None:
        self.dsn = dsn
        self.join_s = join_s
        self.down = False
        self.recoveries = 0
        self._attempt: asyncio.Task[bool] | None = None

    async def connect(self, **kwargs: Any) -> psycopg.AsyncConnection[Any]:
        """A new connection (``kwargs`` as ``psycopg.AsyncConnection.connect`` takes them)."""
        await self.reachable()
        try:
            return await psycopg.AsyncConnection.connect(self.dsn, **{"connect_timeout": CONNECT_TIMEOUT_S, **kwargs})
        except psycopg.OperationalError:
            self._lost()
            raise

    async def reachable(self) -> None:
        """Return when the database is up (at once, unless it was found down); else
        :class:`DatabaseUnavailable` after the shared attempt to reach it fails or ``join_s`` passes."""
        if not self.down:
            return
        if self._attempt is None or self._attempt.done():
            self._attempt = asyncio.get_running_loop().create_task(self._reach(), name="reaching the database")
        try:
            async with asyncio.timeout(self.join_s):
                reached = await asyncio.shield(self._attempt)
        except TimeoutError:
            reached = False
        if not reached:
            raise DatabaseUnavailable()

    def _lost(self) -> None:
        if not self.down:
            self.down = True
            log.warning("database unreachable; requests are refused until it answers again")

    async def _reach(self) -> bool:
        try:
            probe = await psycopg.AsyncConnection.connect(self.dsn, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.OperationalError:
            return False
        await probe.close()
        if self.down:
            self.down = False
            self.recoveries += 1
            log.warning("database reachable again")
        return True


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, DatabaseWatch]] = weakref.WeakKeyDictionary()


def watch_of(dsn: str) -> DatabaseWatch:
    """The watch of the database at ``dsn`` (a libpq URL) for the running event loop (the one loop of a
    service process; each test's own), whose connections and probe it serves."""
    of_loop = _watches.setdefault(asyncio.get_running_loop(), {})
    watch = of_loop.get(dsn)
    if watch is None:
        watch = of_loop[dsn] = DatabaseWatch(dsn)
    return watch


def closed_by_server(connection: psycopg.AsyncConnection[Any]) -> bool:
    """Whether an idle connection was closed by the server (or is otherwise unusable): an idle session
    is sent nothing, so input waiting on its socket is the server's goodbye or the end of the stream."""
    if connection.closed or connection.broken:
        return True
    try:
        readable, _, _ = select.select([connection.pgconn.socket], [], [], 0)
    except (OSError, ValueError, psycopg.OperationalError):
        return True
    return bool(readable)
