"""Keeping the CRM's copy of billing current: a bulk load of every account (COPY, a page at a time), then
the change feed followed from where the last run stopped; a feed that no longer holds the entries after
our position (a gap) is answered with a full re-sync.  The cards of one client are refreshed on demand."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from crm_core import meter_readings
from crm_core.billing import store
from crm_core.billing.client import BillingClient, BillingUnavailable, FeedGap, UnknownAccount
from crm_core.billing.records import BillingAccount, BillingContractError

log = logging.getLogger(__name__)
FETCHES_AT_ONCE = 8


@dataclass(frozen=True, slots=True)
class LoadReport:
    accounts: int
    updated: int
    created: int
    feed_seq: int


async def bulk_load(client: BillingClient, db: AsyncEngine, *, page_size: int = 10_000) -> LoadReport:
    """Every account billing has, each page in its own transaction; the feed position is the one billing
    gave when the export began, so changes made during the load are applied again by the feed."""
    total = updated = created = 0
    start_seq: int | None = None
    async for page, feed_seq in client.pages(page_size):
        start_seq = feed_seq if start_seq is None else start_seq
        async with db.begin() as conn:
            report = await store.save_accounts(conn, page, create_missing=True)
        total, updated, created = total + len(page), updated + report.updated, created + report.created
    async with db.begin() as conn:
        await store.set_feed_position(conn, start_seq or 0, full_load=True)
    log.info("billing bulk load: %d accounts, %d updated, %d new", total, updated, created)
    return LoadReport(total, updated, created, start_seq or 0)


async def fetch_accounts(client: BillingClient, account_nos: Sequence[str]) -> list[BillingAccount]:
    """The accounts with their detail, a few fetches at a time; unknown or malformed ones are logged."""
    gate = asyncio.Semaphore(FETCHES_AT_ONCE)

    async def one(account_no: str) -> BillingAccount | None:
        async with gate:
            try:
                return await client.account(account_no)
            except UnknownAccount:
                log.warning("billing does not know account %s", account_no)
            except BillingContractError as exc:
                log.warning("billing answer for account %s refused: %s", account_no, exc)
            return None

    return [a for a in await asyncio.gather(*(one(no) for no in dict.fromkeys(account_nos))) if a is not None]


async def follow_feed(client: BillingClient, db: AsyncEngine) -> int:
    """Apply the feed's entries since the stored position (a full load first when there is none, or when
    the feed has a gap); returns the number of accounts refreshed."""
    async with db.connect() as conn:
        position = await store.feed_position(conn)
    if position is None:
        return (await bulk_load(client, db)).accounts
    refreshed = 0
    while True:
        try:
            changes, last_seq = await client.changes(position)
        except FeedGap:
            log.warning("billing change feed lost entries after %d; loading every account again", position)
            return refreshed + (await bulk_load(client, db)).accounts
        if not changes:
            return refreshed
        accounts = await fetch_accounts(client, [c.account_no for c in changes])
        position = max(c.seq for c in changes)
        async with db.begin() as conn:
            await store.save_accounts(conn, accounts)
            await store.set_feed_position(conn, position)
        refreshed += len(accounts)
        if position >= last_seq:
            return refreshed


async def refresh_client(client: BillingClient, db: AsyncEngine, account_nos: Sequence[str]) -> int:
    """Fetch the given accounts now (a card opened with old data, or the operator's "refresh")."""
    accounts = await fetch_accounts(client, account_nos)
    async with db.begin() as conn:
        await store.save_accounts(conn, accounts)
    return len(accounts)


async def write_back_readings(client: BillingClient, db: AsyncEngine, batch: int = 100) -> int:
    """Send the accepted readings due for their write-back; each one's row stays locked while it is sent,
    so two workers never send one twice, and a refusal or an outage is retried later.  Returns how many
    billing took."""
    sent = 0
    while True:
        async with db.begin() as conn:
            due = await meter_readings.claim_write_backs(conn, batch)
            for row in due:
                try:
                    await client.post_reading(meter_readings.billing_body(row))
                except (BillingUnavailable, UnknownAccount) as exc:
                    await meter_readings.write_back_failed(conn, row["id"], row["attempts"], str(exc) or "refused")
                else:
                    await meter_readings.written_back(conn, row["id"])
                    sent += 1
        if len(due) < batch:
            return sent
