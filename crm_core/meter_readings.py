"""Meter readings taken by the contact centre: stored with their date and source, judged against the
meter's last reading (billing's and ours) and the tariff, and written back to billing once.

The judgement itself is :mod:`routing.meter_readings`'s.  A reading is stored under its idempotency key:
the same key again (a retried request, a bot message delivered twice) answers the first reading's outcome
and stores nothing.  Accepted readings wait in the
table itself for their write-back (an outbox): a worker claims due ones with ``SKIP LOCKED``, so several
workers never send one twice, and a failure is retried later with a growing delay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from routing.meter_readings import Reading, judge

SOURCES = ("operator", "telegram", "viber", "app", "ivr")
MAX_RETRY_DELAY = timedelta(hours=1)


class ReadingRefused(Exception):
    """A reading that cannot be taken; ``code`` names why (unknown account or meter, implausible)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class NewReading:
    account_no: str
    meter_serial: str
    value: Decimal
    taken_on: date
    source: str
    idempotency_key: str
    created_by: str


@dataclass(frozen=True, slots=True)
class MeterState:
    """A meter as a new reading meets it: its account, the tariff, and the last reading (billing's or one
    the centre accepted) as ``(value, taken_on)``."""

    account_id: int
    tariff: str | None
    last: tuple[Decimal, date] | None


async def meter_state(conn: AsyncConnection, account_no: str, serial: str) -> MeterState:
    """The meter's state, with the meter locked for this transaction (readings of one meter in turn)."""
    row = (await conn.execute(text(
        "SELECT a.id, a.tariff, b.detail FROM accounts a LEFT JOIN account_billing b ON b.account_id = a.id"
        " WHERE a.account_no = :no"), {"no": account_no})).first()
    if row is None:
        raise ReadingRefused("unknown_account", account_no)
    meters = (row.detail or {}).get("meters", []) if isinstance(row.detail, dict) else []
    meter = next((m for m in meters if isinstance(m, dict) and m.get("serial") == serial), None)
    if meter is None:
        raise ReadingRefused("unknown_meter", f"account {account_no} has no meter {serial}")
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:m))"), {"m": f"{row.id}:{serial}"})
    known = [(Decimal(str(r["value"])), date.fromisoformat(str(r["taken_at"])[:10]))
             for r in meter.get("readings", []) if isinstance(r, dict) and r.get("value") is not None]
    ours = (await conn.execute(text(
        "SELECT value, taken_on FROM meter_readings WHERE account_id = :a AND meter_serial = :m"
        " AND status = 'accepted' ORDER BY taken_on DESC, value DESC LIMIT 1"),
        {"a": row.id, "m": serial})).first()
    if ours is not None:
        known.append((Decimal(ours.value), ours.taken_on))
    return MeterState(row.id, row.tariff, max(known, key=lambda r: (r[1], r[0]), default=None))


async def store(conn: AsyncConnection, reading: NewReading, account_id: int, status: str,
                reason: str | None) -> dict[str, Any]:
    """Store a judged reading; the same idempotency key stored meanwhile answers that one's outcome."""
    stored = (await conn.execute(text(
        "INSERT INTO meter_readings (idempotency_key, account_id, meter_serial, value, taken_on, source, status,"
        " reason, created_by, next_attempt_at) VALUES (:key, :a, :m, :v, :d, :src, :status, :why, :by, now())"
        " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"),
        {"key": reading.idempotency_key, "a": account_id, "m": reading.meter_serial, "v": reading.value,
         "d": reading.taken_on, "src": reading.source, "status": status, "why": reason,
         "by": reading.created_by})).scalar()
    if stored is None:
        return await by_key(conn, reading.idempotency_key) or {}
    return {"id": int(stored), "status": status, "reason": reason}


async def take(conn: AsyncConnection, reading: NewReading, today: date) -> dict[str, Any]:
    """Judge and store a reading in the caller's transaction: ``{id, status, reason}``, the first outcome
    again for a key already taken, or :class:`ReadingRefused` (unknown account or meter, implausible)."""
    outcome = await by_key(conn, reading.idempotency_key)
    if outcome is not None:
        return outcome
    meter = await meter_state(conn, reading.account_no, reading.meter_serial)
    last = Reading(*meter.last) if meter.last else None
    verdict = judge(Reading(reading.value, reading.taken_on), last, meter.tariff, today=today)
    if verdict.verdict == "refused":
        raise ReadingRefused("implausible_reading", verdict.reason or "")
    return await store(conn, reading, meter.account_id, verdict.verdict, verdict.reason)


async def meters_of(conn: AsyncConnection, *, client_id: int | None = None,
                    account_no: str | None = None) -> dict[str, tuple[str, ...]]:
    """The meters billing knows, by account number: of the client's accounts, or of one account."""
    if client_id is None and account_no is None:
        return {}
    rows = await conn.execute(text(
        "SELECT a.account_no, coalesce(b.detail -> 'meters', '[]') AS meters FROM accounts a"
        " LEFT JOIN account_billing b ON b.account_id = a.id"
        " WHERE (CAST(:c AS bigint) IS NULL OR a.id IN (SELECT account_id FROM account_roles WHERE client_id = :c))"
        " AND (CAST(:no AS text) IS NULL OR a.account_no = :no) ORDER BY a.account_no LIMIT 20"),
        {"c": client_id, "no": account_no})
    return {row.account_no: tuple(str(m["serial"]) for m in row.meters if isinstance(m, dict) and m.get("serial"))
            for row in rows}


async def by_key(conn: AsyncConnection, key: str) -> dict[str, Any] | None:
    row = (await conn.execute(text("SELECT id, status, reason FROM meter_readings WHERE idempotency_key = :k"),
                              {"k": key})).mappings().first()
    return dict(row) if row is not None else None


async def decide(conn: AsyncConnection, reading_id: int, accept: bool, decided_by: str,
                 reason: str | None) -> dict[str, Any] | None:
    """A person's decision on a reading held for review; ``None`` when there is no such reading waiting."""
    row = (await conn.execute(text(
        "UPDATE meter_readings SET status = :s, decided_by = :by, reason = coalesce(:why, reason),"
        " next_attempt_at = now() WHERE id = :id AND status = 'review' RETURNING id, status, reason"),
        {"s": "accepted" if accept else "refused", "by": decided_by, "why": reason, "id": reading_id})
    ).mappings().first()
    return dict(row) if row is not None else None


async def for_review(conn: AsyncConnection, limit: int = 100) -> list[dict[str, Any]]:
    rows = await conn.execute(text(
        "SELECT r.id, a.account_no, r.meter_serial, r.value, r.taken_on, r.source, r.reason, r.created_by,"
        " r.created_at FROM meter_readings r JOIN accounts a ON a.id = r.account_id WHERE r.status = 'review'"
        " ORDER BY r.created_at LIMIT :n"), {"n": limit})
    return [dict(r) for r in rows.mappings()]


async def of_client(conn: AsyncConnection, client_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The readings the centre took on the client's accounts, latest first."""
    rows = await conn.execute(text(
        "SELECT r.id, a.account_no, r.meter_serial, r.value, r.taken_on, r.source, r.status, r.reason,"
        " r.written_back_at FROM account_roles ar JOIN accounts a ON a.id = ar.account_id"
        " JOIN meter_readings r ON r.account_id = a.id WHERE ar.client_id = :c"
        " ORDER BY r.taken_on DESC, r.id DESC LIMIT :n"), {"c": client_id, "n": limit})
    return [dict(r) for r in rows.mappings()]


async def claim_write_backs(conn: AsyncConnection, limit: int = 100) -> list[dict[str, Any]]:
    """Accepted readings due for their write-back, locked for this transaction (others skip them)."""
    rows = await conn.execute(text(
        "SELECT r.id, r.idempotency_key, a.account_no, r.meter_serial, r.value, r.taken_on, r.source, r.attempts"
        " FROM meter_readings r JOIN accounts a ON a.id = r.account_id"
        " WHERE r.status = 'accepted' AND r.written_back_at IS NULL AND r.next_attempt_at <= now()"
        " ORDER BY r.next_attempt_at LIMIT :n FOR UPDATE OF r SKIP LOCKED"), {"n": limit})
    return [dict(r) for r in rows.mappings()]


async def written_back(conn: AsyncConnection, reading_id: int) -> None:
    await conn.execute(text("UPDATE meter_readings SET written_back_at = now(), last_error = NULL WHERE id = :id"),
                       {"id": reading_id})


async def write_back_failed(conn: AsyncConnection, reading_id: int, attempts: int, error: str) -> None:
    delay = min(timedelta(seconds=5 * 2 ** attempts), MAX_RETRY_DELAY)
    await conn.execute(text(
        "UPDATE meter_readings SET attempts = attempts + 1, last_error = :e, next_attempt_at = now() + :d"
        " WHERE id = :id"), {"e": error[:500], "d": delay, "id": reading_id})


def billing_body(row: dict[str, Any]) -> dict[str, Any]:
    """The write-back request of a claimed reading, as the billing contract's ``ReadingIn``."""
    return {"account_no": row["account_no"], "meter_serial": row["meter_serial"], "value": float(row["value"]),
            "taken_at": row["taken_on"].isoformat(), "source": row["source"],
            "idempotency_key": row["idempotency_key"]}
