"""The dead letters of the intake: items a channel received but could not store or read after bounded
attempts; and the running totals of items it stored but skipped on purpose, by reason.  Parking never refuses an item for its content (the payload is bytes, the key is indexed by a
digest, text is made storable), so a parked item never blocks what comes behind it; parking the same
item again (a channel that restarted before it moved on) updates its row."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

ParkedForm = Literal["inbound", "peer"]
"""``inbound``: a normalised item the inbox refused (its JSON); ``peer``: what the peer sent, which the
channel could not read (its own bytes)."""


@dataclass(frozen=True, slots=True)
class ParkedRecord:
    id: int
    channel: str
    item_key: str
    form: ParkedForm
    raw: bytes
    error: str
    attempts: int
    parked_at: datetime
    replayed_at: datetime | None
    inbox_id: int | None


_COLUMNS = "id, channel, item_key, form, raw, error, attempts, parked_at, replayed_at, inbox_id"


def _storable(value: str) -> str:
    return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


async def park(conn: AsyncConnection, *, channel: str, item_key: str, form: ParkedForm, raw: bytes, error: str,
               attempts: int) -> int:
    """Keep one item; its id.  A repeat of a waiting or replayed item is parked again in the same row."""
    return (await conn.execute(text(
        "INSERT INTO parked_items (channel, item_key, form, raw, error, attempts)"
        " VALUES (:channel, :key, :form, :raw, :error, :attempts)"
        " ON CONFLICT (channel, md5(item_key)) DO UPDATE SET form = EXCLUDED.form, raw = EXCLUDED.raw,"
        " error = EXCLUDED.error, attempts = parked_items.attempts + EXCLUDED.attempts, parked_at = now(),"
        " replayed_at = NULL, inbox_id = NULL RETURNING id"),
        {"channel": _storable(channel)[:16], "key": _storable(item_key), "form": form, "raw": raw,
         "error": _storable(error), "attempts": attempts})).scalar_one()


async def list_parked(conn: AsyncConnection, *, channel: str | None = None, waiting_only: bool = True,
                      before_id: int | None = None, limit: int = 100) -> list[ParkedRecord]:
    """Newest first; ``before_id`` pages on."""
    rows = (await conn.execute(text(
        f"SELECT {_COLUMNS} FROM parked_items WHERE (CAST(:channel AS text) IS NULL OR channel = :channel)"
        " AND (NOT :waiting OR replayed_at IS NULL) AND (CAST(:before AS bigint) IS NULL OR id < :before)"
        " ORDER BY id DESC LIMIT :limit"),
        {"channel": channel, "waiting": waiting_only, "before": before_id, "limit": limit})).mappings().all()
    return [ParkedRecord(**row) for row in rows]


async def parked_item(conn: AsyncConnection, parked_id: int) -> ParkedRecord | None:
    row = (await conn.execute(text(f"SELECT {_COLUMNS} FROM parked_items WHERE id = :id"),
                              {"id": parked_id})).mappings().first()
    return ParkedRecord(**row) if row else None


async def mark_replayed(conn: AsyncConnection, parked_id: int, inbox_id: int | None) -> None:
    """The item was handed over again (``inbox_id``: what the inbox stored; None when it held it already)."""
    await conn.execute(text("UPDATE parked_items SET replayed_at = now(), inbox_id = :inbox WHERE id = :id"),
                       {"id": parked_id, "inbox": inbox_id})


async def waiting_by_channel(conn: AsyncConnection) -> dict[str, int]:
    """How many parked items wait for a replay, per channel."""
    rows = (await conn.execute(text(
        "SELECT channel, count(*) FROM parked_items WHERE replayed_at IS NULL GROUP BY channel"))).all()
    return {channel: int(count) for channel, count in rows}


async def count_skipped(conn: AsyncConnection, channel: str, reason: str) -> None:
    await conn.execute(text(
        "INSERT INTO intake_skips (channel, reason, total) VALUES (:channel, :reason, 1)"
        " ON CONFLICT (channel, reason) DO UPDATE SET total = intake_skips.total + 1"),
        {"channel": channel[:16], "reason": reason[:32]})


async def skipped_totals(conn: AsyncConnection) -> dict[tuple[str, str], int]:
    """(channel, reason) -> how many items were skipped on purpose, ever."""
    rows = (await conn.execute(text("SELECT channel, reason, total FROM intake_skips"))).all()
    return {(channel, reason): int(total) for channel, reason, total in rows}


def as_json(record: ParkedRecord) -> dict[str, Any]:
    """For the admin listing: the raw payload as text when it is UTF-8, else base64."""
    try:
        raw, encoding = record.raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        raw, encoding = base64.b64encode(record.raw).decode("ascii"), "base64"
    return {"id": record.id, "channel": record.channel, "item_key": record.item_key, "form": record.form,
            "raw": raw, "raw_encoding": encoding, "error": record.error, "attempts": record.attempts,
            "parked_at": record.parked_at.isoformat(), "inbox_id": record.inbox_id,
            "replayed_at": record.replayed_at.isoformat() if record.replayed_at else None}
