"""Durable reminders: rows in PostgreSQL indexed by (kind, shard, due_at), fired by the owning host.

A reminder is deleted only after its entity has handled it, and only if it was not set again meanwhile
(the delete matches the ``due_at`` that fired), so a crash between firing and deleting fires it again:
reminders are at-least-once and entities handle them idempotently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from crm_core.models import Reminder


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

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def upsert(self, kind: str, entity_id: str, name: str, shard: int, due_at: datetime,
                     payload: dict[str, Any], conn: AsyncConnection | None = None) -> None:
        statement = insert(Reminder).values(kind=kind, entity_id=entity_id, name=name, shard=shard,
                                            due_at=due_at, payload=payload)
        statement = statement.on_conflict_do_update(
            index_elements=[Reminder.kind, Reminder.entity_id, Reminder.name],
            set_={"shard": shard, "due_at": due_at, "payload": payload})
        await self._write(statement, conn)

    async def delete(self, kind: str, entity_id: str, name: str, due_at: datetime | None = None,
                     conn: AsyncConnection | None = None) -> None:
        statement = delete(Reminder).where(Reminder.kind == kind, Reminder.entity_id == entity_id,
                                           Reminder.name == name)
        if due_at is not None:
            statement = statement.where(Reminder.due_at == due_at)
        await self._write(statement, conn)

    async def _write(self, statement: Any, conn: AsyncConnection | None) -> None:
        if conn is not None:
            await conn.execute(statement)
            return
        async with self.engine.begin() as own:
            await own.execute(statement)

    async def due(self, kind: str, shard: int, now: datetime, limit: int = 500) -> list[DueReminder]:
        statement = (select(Reminder.entity_id, Reminder.name, Reminder.due_at, Reminder.payload)
                     .where(Reminder.kind == kind, Reminder.shard == shard, Reminder.due_at <= now)
                     .order_by(Reminder.due_at).limit(limit))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
        return [DueReminder(*row) for row in rows]
