"""Billing behind its adapter, against the sandbox billing server over real HTTP and a real PostgreSQL:
the bulk load, the change feed and its gaps, tolerant answers, and a billing that is down or slow
(CM-02: billing data with its time, refreshed at least every 5 minutes or on request)."""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import text

from actors.billing_feed import BillingFollower
from crm_core.billing import sync
from crm_core.billing.client import BillingClient, BillingSettings, BillingUnavailable
from crm_core.billing.records import BillingContractError, parse_account
from crm_core.billing.sandbox import BillingBook, build_app
from crm_core.database import async_engine
from crm_core.seed.codes import account_number
from crm_core.seed.loader import seed
from tests.support.engine import eventually

pytestmark = pytest.mark.integration
SEEDED = 300


@pytest.fixture
async def db(fresh_db_url):
    await asyncio.to_thread(seed, fresh_db_url, SEEDED, progress=False)
    engine = async_engine(fresh_db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def billing():
    book = BillingBook(accounts=SEEDED + 50)
    server = TestServer(build_app(book), host="127.0.0.1", port=0)
    await server.start_server()
    client = BillingClient(BillingSettings(url=str(server.make_url("/")), timeout=0.5, breaker_threshold=3,
                                           breaker_seconds=60))
    yield book, client
    await client.close()
    await server.close()


async def _balance(db, account_id):
    async with db.connect() as conn:
        row = (await conn.execute(text(
            "SELECT coalesce(b.balance, a.balance) AS balance, coalesce(b.as_of, a.balance_as_of) AS balance_as_of,"
            " coalesce(b.tariff, a.tariff) AS tariff FROM accounts a LEFT JOIN account_billing b"
            " ON b.account_id = a.id WHERE a.account_no = :no"), {"no": account_number(account_id)})).first()
    return row


async def test_the_bulk_load_takes_every_account_billing_has(db, billing):
    book, client = billing
    report = await sync.bulk_load(client, db, page_size=100)
    assert (report.accounts, report.created) == (SEEDED + 50, 50)
    for account_id in (1, 150, SEEDED, SEEDED + 50):
        expected = book.account(account_id, detail=False)
        balance, as_of, tariff = await _balance(db, account_id)
        assert (balance, as_of.isoformat(), tariff) == (Decimal(expected["balance"]), expected["as_of"],
                                                        expected["tariff"])
    again = await sync.bulk_load(client, db, page_size=100)
    assert again.created == 0


async def test_the_change_feed_brings_a_payment_with_its_detail_and_a_gap_loads_everything(db, billing):
    book, client = billing
    await sync.bulk_load(client, db)
    before = await _balance(db, 7)
    book.pay(7, Decimal("250.00"))
    assert await sync.follow_feed(client, db) == 1
    after = await _balance(db, 7)
    assert after.balance == before.balance + Decimal("250.00") and after.balance_as_of > before.balance_as_of
    async with db.connect() as conn:
        detail = (await conn.execute(text(
            "SELECT b.detail FROM account_billing b JOIN accounts a ON a.id = b.account_id"
            " WHERE a.account_no = :no"), {"no": account_number(7)})).scalar_one()
    assert detail["payments"][0]["amount"] == "250.00" and detail["meters"][0]["readings"]
    assert await sync.follow_feed(client, db) == 0

    book.feed_size = 2
    for account_id in (10, 11, 12, 13):
        book.pay(account_id, Decimal("1.00"))
    refreshed = await sync.follow_feed(client, db)
    assert refreshed == SEEDED + 50  # the feed lost entries after our position: everything again
    assert (await _balance(db, 10)).balance == Decimal(book.account(10, detail=False)["balance"])


async def test_an_older_answer_never_replaces_newer_data(db, billing):
    book, client = billing
    await sync.bulk_load(client, db)
    book.pay(5, Decimal("100.00"))
    await sync.refresh_client(client, db, [account_number(5)])
    fresh = await _balance(db, 5)
    book.changed[5]["as_of"] = "2020-01-01T00:00:00+00:00"
    book.changed[5]["balance"] = "-999.00"
    await sync.refresh_client(client, db, [account_number(5)])
    assert await _balance(db, 5) == fresh


async def test_billing_down_or_slow_is_a_clear_error_and_the_breaker_stops_asking(db, billing):
    book, client = billing
    book.outage = True
    with pytest.raises(BillingUnavailable, match="503"):
        await client.account(account_number(1))
    book.outage, book.latency = False, 2.0
    with pytest.raises(BillingUnavailable, match="did not answer"):
        await client.account(account_number(1))
    with pytest.raises(BillingUnavailable):
        await client.account(account_number(1))
    served = book.served
    for _ in range(5):
        with pytest.raises(BillingUnavailable, match="breaker is open"):
            await client.account(account_number(1))
    assert book.served == served  # an open breaker sends nothing to billing


def test_answers_with_missing_optional_or_extra_fields_are_taken_and_required_ones_are_not():
    account = parse_account({"account_no": "1234567890", "balance": "-12.50", "as_of": "2026-12-01T10:00:00Z",
                             "loyalty_level": "gold"})
    assert account.balance == Decimal("-12.50") and account.tariff is None and account.detail == {}
    for broken in ({"balance": "1", "as_of": "2026-12-01T10:00:00Z"},
                   {"account_no": "1", "balance": "a lot", "as_of": "2026-12-01T10:00:00Z"},
                   {"account_no": "1", "balance": "1", "as_of": "2026-12-01 10:00"},
                   ["not", "an", "object"]):
        with pytest.raises(BillingContractError):
            parse_account(broken)


async def test_the_follower_loads_billing_by_itself_then_follows_its_feed(fresh_db_url, db, billing):
    book, client = billing
    follower = BillingFollower(fresh_db_url, dataclasses.replace(client.settings, follow_every_s=0.2))
    try:
        async def loaded():
            async with db.connect() as conn:
                return (await conn.execute(text("SELECT count(*) FROM account_billing"))).scalar_one() == SEEDED + 50

        await eventually(loaded)
        book.pay(3, Decimal("40.00"))
        expected = Decimal(book.account(3, detail=False)["balance"])

        async def followed():
            return (await _balance(db, 3)).balance == expected

        await eventually(followed)
    finally:
        await follower.stop()
