"""Billing's answers kept beside the accounts: the balance, its time, the tariff and the detail (charges,
payments, equipment, meters) in ``account_billing``, the change feed's position in ``billing_feed``.  Older data never replaces newer: a row is written only when billing's ``as_of`` is at
least the stored one, so a slow answer that arrives after a fresher one changes nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from crm_core import driver_sql as sql
from crm_core.billing.records import BillingAccount

FEED = "billing"

_STAGE = """CREATE TEMP TABLE IF NOT EXISTS billing_stage (
    account_no text, eic_code text, balance numeric(12, 2), as_of timestamptz, tariff text, address text,
    detail jsonb) ON COMMIT DELETE ROWS"""
_COPY = "COPY billing_stage (account_no, eic_code, balance, as_of, tariff, address, detail) FROM STDIN"
_INSERT_NEW = """INSERT INTO accounts (account_no, eic_code, service_address, tariff, balance, balance_as_of)
SELECT s.account_no, s.eic_code, coalesce(s.address, ''), coalesce(s.tariff, ''), s.balance, s.as_of
FROM billing_stage s WHERE s.eic_code IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_no = s.account_no)
ON CONFLICT DO NOTHING"""
_UPSERT = """INSERT INTO account_billing (account_id, balance, as_of, tariff, detail, fetched_at)
SELECT a.id, s.balance, s.as_of, s.tariff, s.detail, CASE WHEN s.detail IS NOT NULL THEN now() END
FROM billing_stage s JOIN accounts a ON a.account_no = s.account_no
ON CONFLICT (account_id) DO UPDATE SET balance = excluded.balance, as_of = excluded.as_of,
  tariff = excluded.tariff, detail = coalesce(excluded.detail, account_billing.detail),
  fetched_at = coalesce(excluded.fetched_at, account_billing.fetched_at)
WHERE account_billing.as_of <= excluded.as_of"""


@dataclass(frozen=True, slots=True)
class SaveReport:
    updated: int  # accounts whose figures changed
    created: int  # accounts billing has that the CRM had not


async def save_accounts(conn: sql.Source, accounts: Sequence[BillingAccount], *, create_missing: bool = False,
                        ) -> SaveReport:
    """Write billing's figures (and detail, where it came with them) in the caller's transaction."""
    if not accounts:
        return SaveReport(0, 0)
    await sql.execute(conn, _STAGE)
    await sql.copy_rows(conn, _COPY, [
        (a.account_no, a.eic_code, a.balance, a.as_of, a.tariff, a.service_address,
         json.dumps(a.detail_json(), ensure_ascii=False) if a.detail else None) for a in accounts])
    created = 0
    if create_missing:
        created = await sql.fetch_value(conn, f"WITH n AS ({_INSERT_NEW} RETURNING 1) SELECT count(*) FROM n")
    updated = await sql.fetch_value(conn, f"WITH u AS ({_UPSERT} RETURNING 1) SELECT count(*) FROM u")
    await sql.execute(conn, "TRUNCATE billing_stage")
    return SaveReport(int(updated), int(created))


async def feed_position(conn: sql.Source) -> int | None:
    """The last change-feed entry applied, or ``None`` before the first full load."""
    return await sql.fetch_value(conn, "SELECT last_seq FROM billing_feed WHERE feed = %s", (FEED,))


async def set_feed_position(conn: sql.Source, seq: int, *, full_load: bool = False) -> None:
    await sql.execute(conn, (
        "INSERT INTO billing_feed (feed, last_seq, full_load_at) VALUES (%s, %s, CASE WHEN %s THEN now() END)"
        " ON CONFLICT (feed) DO UPDATE SET last_seq = excluded.last_seq, updated_at = now(),"
        " full_load_at = coalesce(excluded.full_load_at, billing_feed.full_load_at)"), (FEED, seq, full_load))


async def accounts_of_client(conn: sql.Source, client_id: int) -> list[dict[str, Any]]:
    """The client's account numbers with the time their billing detail was fetched (``None``: never)."""
    return await sql.fetch_all(conn, (
        "SELECT a.account_no, b.fetched_at FROM account_roles r JOIN accounts a ON a.id = r.account_id"
        " LEFT JOIN account_billing b ON b.account_id = a.id WHERE r.client_id = %s"
        " GROUP BY a.account_no, b.fetched_at ORDER BY a.account_no LIMIT 100"), (client_id,))

