"""The inbox table: inbound items stored before they are acknowledged to their channel, announced to
the host of their conversation's shard, marked handled with the change they made.

Handled items are kept ``keep_handled`` long (the engine's ``[engine.inbox] keep_handled_days``) and then
removed: their dedupe key guards against a channel delivering the same item again for that long, far
beyond any channel's own redelivery (Telegram keeps updates a day, Viber retries for hours, the mailbox
remembers its UIDs).  Removal walks the oldest rows of a shard by primary key, so it never scans the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from crm_core import driver_sql
from crm_core.driver_sql import Source

#: A notice's payload must stay under PostgreSQL's 8,000 bytes; a bigger item is announced by its id.
NOTICE_PAYLOAD_LIMIT = 7_900

# The columns travel as binary arrays (``%b``): the text form escapes every quote of every payload, a
# dozen times the client CPU of the binary form.
# Each new item is announced, in the order given, on its shard's channel: "<id> <payload>", or "<id>" alone
# when the payload would not fit in a notice.
_INSERT = ("WITH u AS (SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::int[], %b::text[])"
           " WITH ORDINALITY AS u(k, c, t, s, p, n)),"
           " i AS (INSERT INTO inbox (dedupe_key, channel, thread_key, shard, payload)"
           " SELECT k, c, t, s, p::jsonb FROM u ORDER BY n ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key)"
           " SELECT i.id, i.dedupe_key, pg_notify('inbox_' || u.s, i.id || CASE WHEN octet_length(u.p) <"
           f" {NOTICE_PAYLOAD_LIMIT} THEN ' ' || u.p ELSE '' END) FROM i JOIN u ON u.k = i.dedupe_key ORDER BY u.n")

_PRUNE = ("WITH oldest AS (SELECT id, received_at, processed_at FROM inbox WHERE shard = %s ORDER BY id LIMIT %s),"
          " gone AS (DELETE FROM inbox i USING oldest o WHERE i.id = o.id AND o.processed_at IS NOT NULL"
          " AND o.received_at < now() - %s RETURNING 1)"
          " SELECT count(*) FROM gone")


async def store_batch(conn: Source, dedupe_keys: Sequence[str], channels: Sequence[str], threads: Sequence[str],
                      shards: Sequence[int], bodies: Sequence[str]) -> list[dict[str, Any]]:
    """Store items (their payloads as JSON text) in one statement, announcing each new one; the new ones'
    ``{id, dedupe_key}`` (an item whose key was stored before is not among them)."""
    return await driver_sql.fetch_all(conn, _INSERT, (list(dedupe_keys), list(channels), list(threads),
                                                      list(shards), list(bodies)))


async def pending(conn: Source, shard: int, older_than_s: float, skip: Sequence[int],
                  limit: int) -> list[dict[str, Any]]:
    """A shard's items stored more than ``older_than_s`` ago and not handled yet, oldest first."""
    return await driver_sql.fetch_all(conn, (
        "SELECT id, thread_key, payload FROM inbox WHERE shard = %s AND processed_at IS NULL"
        " AND received_at < now() - make_interval(secs => %s) AND id <> ALL(%s) ORDER BY id LIMIT %s"),
        (shard, older_than_s, list(skip), limit))


async def payload_of(conn: Source, inbox_id: int) -> Any:
    """An item's payload (announced by its id alone when it was too big for a notice); None when gone."""
    return await driver_sql.fetch_value(conn, "SELECT payload FROM inbox WHERE id = %s", (inbox_id,))


async def prune_handled(conn: Source, shard: int, keep: timedelta, batch: int = 1_000, rounds: int = 100) -> int:
    """Remove the shard's handled items older than ``keep``: each statement looks at the ``batch`` oldest
    rows of the shard, for at most ``rounds`` statements while they remove something; how many went."""
    removed = 0
    for _ in range(rounds):
        gone = int(await driver_sql.fetch_value(conn, _PRUNE, (shard, batch, keep)) or 0)
        removed += gone
        if not gone:
            break
    return removed
