"""Billing on the client card through the API (CM-02): the card says how old its billing data is,
"refresh" fetches it from billing now, and billing down gives the cached card with its age and a clear
message, never an error page."""

from __future__ import annotations

import contextlib
import os
import uuid
from datetime import date
from decimal import Decimal

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import text

from crm_core.billing import sync
from crm_core.billing.client import BillingClient, BillingSettings
from crm_core.billing.sandbox import BillingBook, build_app
from crm_core.seed.codes import account_number, eic_code

pytestmark = pytest.mark.integration
ACCOUNT_ID = 4_242


@pytest.fixture
async def book(monkeypatch):
    book = BillingBook(accounts=10_000)
    server = TestServer(build_app(book), host="127.0.0.1", port=0)
    await server.start_server()
    monkeypatch.setenv("SWITCHBOARD_BILLING_URL", str(server.make_url("/")))
    yield book
    await server.close()


@contextlib.asynccontextmanager
async def billing_client():
    client = BillingClient(BillingSettings(url=os.environ["SWITCHBOARD_BILLING_URL"], breaker_threshold=100))
    try:
        yield client
    finally:
        await client.close()


async def _client_on_account(engine) -> int:
    async with engine.db.begin() as conn:
        client_id = (await conn.execute(text(
            "INSERT INTO clients (kind, full_name, segment, language) VALUES ('person', :n, 'regular', 'uk')"
            " RETURNING id"), {"n": f"Білінг {uuid.uuid4().hex[:6]}"}
        )).scalar_one()
        account_id = (await conn.execute(text(
            "INSERT INTO accounts (account_no, eic_code, service_address, tariff, balance, balance_as_of)"
            " VALUES (:no, :eic, 'м. Суми, вул. Покровська, 3', 'Побутовий', 10, now() - interval '1 day')"
            " RETURNING id"), {"no": account_number(ACCOUNT_ID), "eic": eic_code(ACCOUNT_ID)})).scalar_one()
        await conn.execute(text("INSERT INTO account_roles (account_id, client_id, role) VALUES (:a, :c, 'owner')"),
                           {"a": account_id, "c": client_id})
    return client_id


async def test_a_card_with_old_billing_data_says_so_and_refresh_brings_billing_figures(engine, web, login_as, book):
    operator = await login_as("cc_operator")
    client_id = await _client_on_account(engine)
    card = await (await web.get(f"/api/v1/clients/{client_id}", headers=operator.headers)).json()
    assert card["billing_state"] == {"fetched_at": None, "stale": True}
    assert card["accounts"][0]["billing"] is None

    book.pay(ACCOUNT_ID, Decimal("120.00"))
    response = await web.post(f"/api/v1/clients/{client_id}/billing/refresh", headers=operator.headers)
    assert response.status == 200, await response.text()
    fresh = await response.json()
    account = fresh["accounts"][0]
    assert Decimal(account["balance"]) == Decimal(book.account(ACCOUNT_ID, detail=False)["balance"])
    assert account["billing"]["payments"][0]["amount"] == "120.00"
    assert account["billing"]["meters"][0]["serial"] and account["billing"]["charges"]
    assert fresh["billing_state"]["stale"] is False and fresh["billing_state"]["unavailable"] is None
    payments = book.account(ACCOUNT_ID, detail=True)["payments"]
    assert fresh["dashboard"]["payments_count"] == len(payments) == 4  # CM-08: the client at a glance
    assert Decimal(fresh["dashboard"]["payments_sum"]) == sum(Decimal(p["amount"]) for p in payments)
    assert fresh["dashboard"]["last_payment"]["amount"] == "120.00"
    card = await (await web.get(f"/api/v1/clients/{client_id}", headers=operator.headers)).json()
    assert card["billing_state"]["stale"] is False


async def test_billing_down_gives_the_cached_card_with_its_age_and_a_message(engine, web, login_as, book):
    operator = await login_as("cc_operator")
    client_id = await _client_on_account(engine)
    await web.post(f"/api/v1/clients/{client_id}/billing/refresh", headers=operator.headers)
    book.outage = True
    response = await web.post(f"/api/v1/clients/{client_id}/billing/refresh", headers=operator.headers)
    assert response.status == 200, await response.text()
    card = await response.json()
    assert card["billing_state"]["unavailable"] == "billing_unavailable"
    assert card["billing_state"]["message"] == "Білінг зараз не відповідає; показано збережені дані"
    assert card["billing_state"]["fetched_at"] and card["accounts"][0]["billing"]["payments"]


async def _reading(web, user, value, key=None, serial=f"G{ACCOUNT_ID:09d}", account_no=None):
    body = {"account_no": account_no or account_number(ACCOUNT_ID), "meter_serial": serial, "value": value,
            "taken_on": date.today().isoformat(), "source": "operator"}
    return await web.post("/api/v1/readings", headers=user.headers,
                          json={**body, "idempotency_key": key} if key else body)


async def test_meter_readings_are_judged_held_for_review_and_written_back_once(engine, web, login_as, book):
    operator, supervisor = await login_as("cc_operator"), await login_as("supervisor")
    client_id = await _client_on_account(engine)
    await web.post(f"/api/v1/clients/{client_id}/billing/refresh", headers=operator.headers)
    last = book.account(ACCOUNT_ID, detail=True)["meters"][0]["readings"][0]["value"]

    response = await _reading(web, operator, last + 20, key="ivr-call-1")
    assert response.status == 201, await response.text()
    assert (await response.json())["status"] == "accepted"
    again = await _reading(web, operator, last + 20, key="ivr-call-1")
    assert again.status == 201 and (await again.json())["id"] == (await response.json())["id"]

    lower = await _reading(web, operator, last + 5)
    assert lower.status == 422 and (await lower.json())["error"] == "implausible_reading"
    assert "Traceback" not in await lower.text()
    for bad, code in (({"serial": "NOPE"}, "unknown_meter"), ({"account_no": "1"}, "unknown_account")):
        response = await _reading(web, operator, last + 30, **bad)
        assert response.status == 404 and (await response.json())["error"] == code

    doubtful = await _reading(web, operator, last + 20 + 5_000)
    assert doubtful.status == 202 and (await doubtful.json())["status"] == "review"
    assert (await web.get("/api/v1/readings/review", headers=operator.headers)).status == 403
    held = (await (await web.get("/api/v1/readings/review", headers=supervisor.headers)).json())["readings"]
    assert [r["id"] for r in held] == [(await doubtful.json())["id"]] and "m³ a day" in held[0]["reason"]

    book.outage = True
    async with billing_client() as billing:
        assert await sync.write_back_readings(billing, engine.db) == 0
    async with engine.db.begin() as conn:
        attempts = (await conn.execute(text("SELECT attempts FROM meter_readings WHERE status = 'accepted'")
                                       )).scalar_one()
        await conn.execute(text("UPDATE meter_readings SET next_attempt_at = now()"))
    assert attempts == 1
    book.outage = False
    decided = await web.post(f"/api/v1/readings/{held[0]['id']}/decision", headers=supervisor.headers,
                             json={"accept": True, "reason": "новий котел"})
    assert decided.status == 200 and (await decided.json())["status"] == "accepted"
    async with billing_client() as billing:
        assert await sync.write_back_readings(billing, engine.db) == 2
        assert await sync.write_back_readings(billing, engine.db) == 0
    assert len(book.readings) == 2
    readings = (await (await web.get(f"/api/v1/clients/{client_id}/readings", headers=operator.headers)).json())
    assert all(r["written_back_at"] for r in readings["readings"]) and len(readings["readings"]) == 2
