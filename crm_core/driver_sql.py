"""Statements of the busiest paths (a contact's inbox row, its conversation, message, ticket and events)
sent straight to the driver under a SQLAlchemy connection: the same transaction, a third of the client
CPU of a compiled SQLAlchemy statement (the figure that limits how many contacts a host opens a second).

A connection the server dropped is invalidated in SQLAlchemy's pool as if SQLAlchemy had seen the
error, so the pool replaces it and callers see the same :class:`sqlalchemy.exc.DBAPIError` they would
see from a compiled statement.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row, tuple_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from crm_core.availability import DatabaseUnavailable, closed_by_server, watch_of

__all__ = ["AutocommitPool", "Connection", "Jsonb", "copy_rows", "execute", "fetch_all", "fetch_one", "fetch_value"]


def libpq_url(engine: AsyncEngine) -> str:
    """The engine's database as a URL the driver takes without SQLAlchemy (password included)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class AutocommitPool:
    """A few autocommit connections for one-statement reads and writes (an entity's state when it
    activates, due reminders, a reminder set on its own, a batch of inbox items, an item joining its
    ticket): no BEGIN and no ROLLBACK or COMMIT around the statement, which cost more than the statement
    itself.  A statement borrows a connection for itself (psycopg's pool), so one slow statement holds
    up no other; a connection found lost is replaced and the pool's idle ones are checked.  While the
    database is down a statement fails at once (:mod:`crm_core.availability`); once it is back the pool
    starts afresh.

    ``relaxed``: its commits return before their WAL reaches the disk (still atomic; a crash of the
    server may lose the last few), for writes rebuilt from durable input such as the inbox."""

    def __init__(self, engine: AsyncEngine, *, connections: int = 3, relaxed: bool = False,
                 wait_s: float = 5.0) -> None:
        options = {"options": "-c synchronous_commit=off"} if relaxed else {}
        self._dsn = libpq_url(engine)
        self._settings = {"min_size": 1, "max_size": connections, "timeout": wait_s,
                          "kwargs": {"autocommit": True, **options}}
        self._pool = self._new_pool()
        self._recoveries = 0
        self._opening: asyncio.Future[None] | None = None
        self._checking: asyncio.Task[None] | None = None

    def _new_pool(self) -> AsyncConnectionPool[Any]:
        return AsyncConnectionPool(self._dsn, connection_class=_WatchedConnection, open=False,
                                   **self._settings)  # type: ignore[arg-type]

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        watch = watch_of(self._dsn)
        await watch.reachable()
        if watch.recoveries != self._recoveries:  # the database was down: start afresh, without waiting
            self._recoveries = watch.recoveries  # for the old pool's backed-off reconnects
            await self._renew()
        if self._opening is None:  # opened by the first statement; the ones arriving meanwhile wait for it
            self._opening = asyncio.ensure_future(self._pool.open(wait=False))
        await self._opening
        pool = self._pool
        connection = await self._checked_out(pool)
        try:
            async with connection:  # a pooled connection: not closed on the way out
                yield connection
        finally:
            await pool.putconn(connection)

    async def _checked_out(self, pool: AsyncConnectionPool[Any]) -> psycopg.AsyncConnection[Any]:
        """An idle connection of ``pool``; those the server closed (a restart) are closed here too, so
        the pool discards them and opens others."""
        for _ in range(int(self._settings["max_size"]) + 1):  # type: ignore[call-overload]
            connection = await pool.getconn()
            if not closed_by_server(connection):
                return connection
            await connection.close()
            await pool.putconn(connection)
        raise psycopg.OperationalError("every connection of the pool was closed by the server")

    async def _renew(self) -> None:
        old, self._pool = self._pool, self._new_pool()
        if self._opening is not None:
            self._opening = None
            asyncio.get_running_loop().create_task(old.close(), name="closing a pool of a past outage")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """Several statements as one transaction on one of the pool's connections: BEGIN, then COMMIT, or
        ROLLBACK when the block raises."""
        async with self.connection() as connection, connection.transaction():
            yield connection

    async def lost(self) -> None:
        """A connection was lost: the server may have dropped the idle ones too, so they are checked (once
        for every statement that found its connection lost meanwhile) before this returns, and a retry
        gets a live connection."""
        if self._checking is None or self._checking.done():
            self._checking = asyncio.create_task(self._pool.check())
        with contextlib.suppress(Exception):  # the statement's own error is what the caller hears of
            await asyncio.shield(self._checking)

    async def close(self) -> None:
        if self._checking is not None:
            self._checking.cancel()
        if self._opening is not None:
            self._opening = None
            await self._pool.close()


class _WatchedConnection(psycopg.AsyncConnection[Any]):
    """How the pool opens its connections: through the database's watch."""

    @classmethod
    async def connect(cls, conninfo: str = "", **kwargs: Any) -> psycopg.AsyncConnection[Any]:  # type: ignore[override]
        return await watch_of(conninfo).connect(**kwargs)


Connection = psycopg.AsyncConnection[Any]
"""A connection taken from an :class:`AutocommitPool` for a transaction (:meth:`AutocommitPool.transaction`)."""

Source = AsyncConnection | AutocommitPool | Connection


@asynccontextmanager
async def _driver(conn: Source) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    if isinstance(conn, AutocommitPool):
        async with conn.connection() as connection:
            yield connection
        return
    if isinstance(conn, psycopg.AsyncConnection):
        yield conn
        return
    proxied = conn.sync_connection.connection if conn.sync_connection is not None else None
    if proxied is None or proxied.driver_connection is None:
        proxied = await conn.get_raw_connection()
    yield proxied.driver_connection  # type: ignore[misc]


async def _failed(conn: Source, sql: str, params: Any, error: psycopg.Error) -> DBAPIError:
    """The driver's error as SQLAlchemy reports it.  A lost connection is handled as SQLAlchemy handles a
    disconnect: the server that dropped one has usually dropped them all, so an autocommit pool checks
    its idle connections, and a SQLAlchemy pool replaces every connection it opened before this one (which
    is invalidated) on their next checkout."""
    lost = isinstance(error, psycopg.OperationalError)
    if isinstance(error, DatabaseUnavailable):
        pass  # no connection was opened, none to check
    elif lost and isinstance(conn, AutocommitPool):
        await conn.lost()  # psycopg's pool discards the lost connection itself when it is returned
    elif lost and isinstance(conn, AsyncConnection):
        if conn.sync_connection is not None:
            conn.sync_engine.pool._invalidate(conn.sync_connection.connection, error, _checkin=False)
        await conn.invalidate(error)
    wrapped = DBAPIError.instance(sql, params, error, psycopg.Error, connection_invalidated=lost)
    return wrapped  # type: ignore[no-any-return]


async def _fetch(conn: Source, sql: str, params: Sequence[Any], row_factory: Any,
                 read: Callable[[Any], Awaitable[Any]]) -> Any:
    try:
        async with _driver(conn) as driver, driver.cursor(row_factory=row_factory) as cursor:
            await cursor.execute(sql, params)
            return await read(cursor)
    except psycopg.Error as error:
        raise await _failed(conn, sql, params, error) from error


async def fetch_one(conn: Source, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
    return await _fetch(conn, sql, params, dict_row, lambda cursor: cursor.fetchone())  # type: ignore[no-any-return]


async def fetch_all(conn: Source, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    return await _fetch(conn, sql, params, dict_row, lambda cursor: cursor.fetchall())  # type: ignore[no-any-return]


async def fetch_value(conn: Source, sql: str, params: Sequence[Any] = ()) -> Any:
    """The first column of the first row (None when there is no row)."""
    row = await _fetch(conn, sql, params, tuple_row, lambda cursor: cursor.fetchone())
    return row[0] if row is not None else None


async def execute(conn: Source, sql: str, params: Sequence[Any] = ()) -> None:
    try:
        async with _driver(conn) as driver:
            await driver.execute(sql, params)
    except psycopg.Error as error:
        raise await _failed(conn, sql, params, error) from error


async def copy_rows(conn: Source, statement: str, rows: Sequence[Sequence[Any]]) -> None:
    """``COPY ... FROM STDIN`` of ``rows`` (each a tuple of the statement's columns) on ``conn``."""
    try:
        async with _driver(conn) as driver, driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                await copy.write_row(row)
    except psycopg.Error as error:
        raise await _failed(conn, statement, None, error) from error
