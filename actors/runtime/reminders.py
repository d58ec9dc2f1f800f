"""Durable reminders: rows in PostgreSQL indexed by (kind, shard, due_at), fired by the owning host.

A reminder is deleted only after its entity has handled it, and only if it was not set again meanwhile
(the delete matches the ``due_at`` that fired), so a crash between firing and deleting fires it again:
reminders are at-least-once and entities handle them idempotently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core import driver_sql
from crm_core import reminders as reminder_rows


@dataclass(frozen=True, slots=True)
class DueReminder:
    entity_id: str
    name: str
    due_at: datetime
    payload: dict[str, Any]


class ReminderStore(Protocol):
    """``conn``: write in that open transaction instead of a transaction of one's own."""

    async def upsert(self, kind: str, entity_id: str, name: str, shard: int, due_at: datetime,
                     payload: dict[str, Any], conn: AsyncConnection | None = None) -> None: ...

    async def delete(self, kind: str, entity_id: str, name: str, due_at: datetime | None = None,
                     conn: AsyncConnection | None = None) -> None: ...

    async def due(self, kind: str, shard: int, now: datetime, limit: int = 500) -> list[DueReminder]: ...


class MemoryReminderStore:
    """Reminders kept in a dict: for in-process unit tests only (they do not survive the process)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str], tuple[int, datetime, dict[str, Any]]] = {}

    async def upsert(self, kind: str, entity_id: str, name: str, shard: int, due_at: datetime,
                     payload: dict[str, Any], conn: AsyncConnection | None = None) -> None:
        self.rows[(kind, entity_id, name)] = (shard, due_at, payload)

    async def delete(self, kind: str, entity_id: str, name: str, due_at: datetime | None = None,
                     conn: AsyncConnection | None = None) -> None:
        row = self.rows.get((kind, entity_id, name))
        if row is not None and (due_at is None or row[1] == due_at):
            del self.rows[(kind, entity_id, name)]

    async def due(self, kind: str, shard: int, now: datetime, limit: int = 500) -> list[DueReminder]:
        rows = sorted((due_at, entity_id, name, payload)
                      for (k, entity_id, name), (s, due_at, payload) in self.rows.items()
                      if k == kind and s == shard and due_at <= now)
        return [DueReminder(entity_id, name, due_at, payload) for due_at, entity_id, name, payload in rows[:limit]]


class PgReminderStore:
    """Reminders in the ``reminders`` table."""

    def __init__(self, autocommit: driver_sql.AutocommitPool) -> None:
        self.autocommit = autocommit

    async def upsert(self, kind: str, entity_id: str, name: str, shard: int, due_at: datetime,
                     payload: dict[str, Any], conn: AsyncConnection | None = None) -> None:
        await reminder_rows.upsert(self._source(conn), kind, entity_id, name, shard, due_at, payload)

    async def delete(self, kind: str, entity_id: str, name: str, due_at: datetime | None = None,
                     conn: AsyncConnection | None = None) -> None:
        await reminder_rows.delete(self._source(conn), kind, entity_id, name, due_at)

    def _source(self, conn: AsyncConnection | None) -> driver_sql.Source:
        """``conn``'s transaction, or a statement on its own (one statement: atomic without a transaction)."""
        return conn if conn is not None else self.autocommit

    async def due(self, kind: str, shard: int, now: datetime, limit: int = 500) -> list[DueReminder]:
        rows = await reminder_rows.due(self.autocommit, kind, shard, now, limit)
        return [DueReminder(r["entity_id"], r["name"], r["due_at"], r["payload"]) for r in rows]
