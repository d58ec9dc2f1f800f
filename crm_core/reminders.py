"""The ``reminders`` table: durable reminders of entities (SLA deadlines, offer timeouts), one row per
(kind, entity, name), fired by the host of their shard when due."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crm_core import driver_sql
from crm_core.driver_sql import Jsonb, Source


async def upsert(conn: Source, kind: str, entity_id: str, name: str, shard: int, due_at: datetime,
                 payload: dict[str, Any]) -> None:
    await driver_sql.execute(conn, (
        "INSERT INTO reminders (kind, entity_id, name, shard, due_at, payload) VALUES (%s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (kind, entity_id, name) DO UPDATE"
        " SET shard = excluded.shard, due_at = excluded.due_at, payload = excluded.payload"),
        (kind, entity_id, name, shard, due_at, Jsonb(payload)))


async def delete(conn: Source, kind: str, entity_id: str, name: str, due_at: datetime | None) -> None:
    """Delete the reminder; with ``due_at``, only if it is still set for that time (not set again since)."""
    await driver_sql.execute(conn, "DELETE FROM reminders WHERE kind = %s AND entity_id = %s AND name = %s"
                                   " AND (%s::timestamptz IS NULL OR due_at = %s)",
                             (kind, entity_id, name, due_at, due_at))


async def due(conn: Source, kind: str, shard: int, now: datetime, limit: int) -> list[dict[str, Any]]:
    """The shard's reminders of ``kind`` due by ``now``, soonest first."""
    return await driver_sql.fetch_all(
        conn, "SELECT entity_id, name, due_at, payload FROM reminders"
              " WHERE kind = %s AND shard = %s AND due_at <= %s ORDER BY due_at LIMIT %s", (kind, shard, now, limit))
