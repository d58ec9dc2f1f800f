"""Notifications kept for people: an SLA escalation or a ticket a client's message raised, one row per
recipient, until the recipient acknowledges it.  Recorded in the transaction of the escalation itself, so
neither is lost without the other; recording the same ``key`` again for a recipient changes nothing.

Recipients are the active users of the notified roles who serve the ticket's queue (``users.queues``);
when nobody of those roles serves it, every active user of the roles is told, so no escalation goes
unseen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crm_core import driver_sql as sql
from crm_core.driver_sql import Jsonb, Source

_COLUMNS = ("n.id, n.recipient_id, n.ticket_id, n.ticket_number, n.queue, n.reason, n.key, n.data, n.created_at,"
            " n.read_at, n.acknowledged_at, n.acknowledged_by")


@dataclass(frozen=True, slots=True)
class NewNotification:
    ticket_id: int | None
    ticket_number: str | None
    queue: str | None
    reason: str
    key: str
    data: dict[str, Any]


async def record(conn: Source, notification: NewNotification, roles: Sequence[str]) -> list[dict[str, Any]]:
    """One notification per recipient (see the module); returns the rows it added, each with the
    recipient's e-mail (for delivery), none when every recipient had it already."""
    n = notification
    return await sql.fetch_all(conn, """
        WITH serving AS (
            SELECT id FROM users WHERE active AND role = ANY(%s)
               AND (%s::text IS NULL OR coalesce(queues->'names', '[]'::jsonb) ? %s)),
        recipients AS (
            SELECT id FROM serving
            UNION ALL
            SELECT id FROM users WHERE active AND role = ANY(%s) AND NOT EXISTS (SELECT 1 FROM serving)),
        added AS (
            INSERT INTO notifications (recipient_id, ticket_id, ticket_number, queue, reason, key, data)
            SELECT id, %s, %s, %s, %s, %s, %s FROM recipients
            ON CONFLICT (recipient_id, key) DO NOTHING
            RETURNING *)
        SELECT a.id, a.recipient_id, a.ticket_number, a.reason, a.key, a.data, u.email
          FROM added a JOIN users u ON u.id = a.recipient_id ORDER BY a.id""",
        (list(roles), n.queue, n.queue, list(roles), n.ticket_id, n.ticket_number, n.queue, n.reason, n.key,
         Jsonb(n.data)))


async def feed(conn: Source, recipient_id: int, *, unacknowledged_only: bool = False,
               limit: int = 200) -> list[dict[str, Any]]:
    """A recipient's notifications, newest first."""
    return await sql.fetch_all(conn, f"SELECT {_COLUMNS} FROM notifications n WHERE n.recipient_id = %s"
                                     f"{' AND n.acknowledged_at IS NULL' if unacknowledged_only else ''}"
                                     " ORDER BY n.id DESC LIMIT %s", (recipient_id, limit))


async def acknowledge(conn: Source, recipient_id: int, notification_id: int, by: str) -> dict[str, Any] | None:
    """Mark one of the recipient's notifications read and acknowledged (the first acknowledgement
    stays); None when the recipient has no such notification."""
    now = datetime.now(UTC)
    return await sql.fetch_one(conn, f"""
        UPDATE notifications n SET read_at = coalesce(n.read_at, %s), acknowledged_at = coalesce(n.acknowledged_at, %s),
               acknowledged_by = coalesce(n.acknowledged_by, %s)
         WHERE n.id = %s AND n.recipient_id = %s RETURNING {_COLUMNS}""",
        (now, now, by, notification_id, recipient_id))


async def acknowledge_key(conn: Source, key: str, by: str) -> int:
    """Acknowledge, for every recipient, the notifications of one escalation; how many were open."""
    now = datetime.now(UTC)
    return int(await sql.fetch_value(conn, """
        WITH done AS (UPDATE notifications SET read_at = coalesce(read_at, %s), acknowledged_at = %s,
                             acknowledged_by = %s
                       WHERE key = %s AND acknowledged_at IS NULL RETURNING 1)
        SELECT count(*) FROM done""", (now, now, by, key)))


async def mark_emailed(conn: Source, notification_ids: Sequence[int]) -> None:
    await sql.execute(conn, "UPDATE notifications SET emailed_at = now() WHERE id = ANY(%s)", (list(notification_ids),))
