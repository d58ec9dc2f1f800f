"""Statements of the busiest paths (a contact's inbox row, its conversation, message, ticket and events)
sent straight to the driver under a SQLAlchemy connection: the same transaction, a third of the client
CPU of a compiled SQLAlchemy statement (the figure that limits how many contacts a host opens a second).

A connection the server dropped is invalidated in SQLAlchemy's pool as if SQLAlchemy had seen the
error, so the pool replaces it and callers see the same :class:`sqlalchemy.exc.DBAPIError` they would
see from a compiled statement.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row, tuple_row
from psycopg.types.json import Jsonb
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

__all__ = ["AutocommitConnection", "Jsonb", "execute", "fetch_all", "fetch_one", "fetch_value"]


class AutocommitConnection:
    """One autocommit connection for one-statement reads and writes (an entity's state when it
    activates, due reminders, a reminder set on its own, a batch of inbox items): no pool checkout, no
    BEGIN and no ROLLBACK or COMMIT around the statement, which cost more than the statement itself.
    Concurrent statements take turns on the connection; a lost connection is opened again by the next
    statement.

    ``relaxed``: its commits return before their WAL reaches the disk (still atomic; a crash of the
    server may lose the last few), for writes rebuilt from durable input such as the inbox."""

    def __init__(self, engine: AsyncEngine, *, relaxed: bool = False) -> None:
        url = engine.url.set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._options = {"options": "-c synchronous_commit=off"} if relaxed else {}
        self._connection: psycopg.AsyncConnection[Any] | None = None
        self._opening: asyncio.Lock | None = None

    async def connection(self) -> psycopg.AsyncConnection[Any]:
        if self._connection is None or self._connection.closed:
            self._opening = self._opening or asyncio.Lock()
            async with self._opening:
                if self._connection is None or self._connection.closed:
                    self._connection = await psycopg.AsyncConnection.connect(self._dsn, autocommit=True,
                                                                            **self._options)
        return self._connection

    async def invalidate(self, error: BaseException | None = None) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    async def close(self) -> None:
        await self.invalidate()


Source = AsyncConnection | AutocommitConnection


async def _driver(conn: Source) -> psycopg.AsyncConnection[Any]:
    if isinstance(conn, AutocommitConnection):
        return await conn.connection()
    proxied = conn.sync_connection.connection if conn.sync_connection is not None else None
    if proxied is None or proxied.driver_connection is None:
        proxied = await conn.get_raw_connection()
    return proxied.driver_connection  # type: ignore[return-value]


async def _failed(conn: Source, sql: str, params: Any, error: psycopg.Error) -> DBAPIError:
    """The driver's error as SQLAlchemy reports it.  A lost connection is handled as SQLAlchemy handles a
    disconnect: every connection the pool opened before it is replaced on its next checkout (the server
    that dropped one has usually dropped them all), and this one is invalidated."""
    lost = isinstance(error, psycopg.OperationalError)
    if lost and isinstance(conn, AsyncConnection) and conn.sync_connection is not None:
        conn.sync_engine.pool._invalidate(conn.sync_connection.connection, error, _checkin=False)
    if lost:
        await conn.invalidate(error)
    wrapped = DBAPIError.instance(sql, params, error, psycopg.Error, connection_invalidated=lost)
    return wrapped  # type: ignore[no-any-return]


async def _fetch(conn: Source, sql: str, params: Sequence[Any], row_factory: Any,
                 read: Callable[[Any], Awaitable[Any]]) -> Any:
    driver = await _driver(conn)
    try:
        async with driver.cursor(row_factory=row_factory) as cursor:
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
    driver = await _driver(conn)
    try:
        await driver.execute(sql, params)
    except psycopg.Error as error:
        raise await _failed(conn, sql, params, error) from error
