"""The client card on PostgreSQL: client, accounts with balances, contacts, related people, tickets, messages.

Uses the demo callers (a household with two accounts; a married couple sharing an account and a
landline) and tickets/messages written here the way the engine writes them.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from crm_core.card import client_card
from crm_core.database import async_engine
from crm_core.seed import seed_demo_callers

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def callers(db_url):
    return {c.key: c for c in seed_demo_callers(db_url)}


@pytest.fixture(scope="module")
async def conn(db_url, callers):
    engine = async_engine(db_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        yield connection
    await engine.dispose()


async def _add_ticket(conn, client_id, status, created_at, channel="telegram", messages=()):
    tag = uuid.uuid4().hex[:10]
    conversation_id = (await conn.execute(text(
        "INSERT INTO conversations (thread_key, channel, status, routing_state, state)"
        " VALUES (:k, :c, 'closed', 'done', '{}') RETURNING id"), {"k": f"{channel}:{tag}", "c": channel})).scalar_one()
    ticket_id = (await conn.execute(text(
        "INSERT INTO tickets (number, conversation_id, channel, created_at, client_id, identified, type, priority,"
        " status, attributes, subject) VALUES (:n, :conv, :c, :at, :client, true, 'request', 'normal', :s, '{}',"
        " :subject) RETURNING id"),
        {"n": f"T-{tag}", "conv": conversation_id, "c": channel, "at": created_at, "client": client_id,
         "s": status, "subject": f"Звернення {tag}"})).scalar_one()
    for offset, (direction, body) in enumerate(messages):
        await conn.execute(text(
            "INSERT INTO messages (conversation_id, ticket_id, direction, author, text, attachments, dedupe_key, at)"
            " VALUES (:conv, :t, :d, 'client', :body, '{}', :k, :at)"),
            {"conv": conversation_id, "t": ticket_id, "d": direction, "body": body, "k": f"{tag}:{offset}",
             "at": created_at + timedelta(minutes=offset)})
    return ticket_id


async def test_card_of_a_client_with_no_tickets_yet(conn, callers):
    household = callers["household"]
    card = await client_card(conn, household.client_id)
    json.dumps(card)  # plain JSON all the way down
    assert card["client"]["full_name"] == "Шевченко Олена Петрівна" and card["client"]["segment"] == "regular"
    assert [a["account_no"] for a in card["accounts"]] == ["0100000101", "0100000102"]
    assert card["accounts_total"] == 2
    flat = card["accounts"][0]
    assert flat["service_address"] == "м. Київ, вул. Хрещатик, буд. 12, кв. 34"
    assert flat["balance"] == "-245.50" and flat["tariff"] == "Побутовий річний" and flat["roles"] == ["owner"]
    assert len(flat["eic_code"]) == 16 and datetime.fromisoformat(flat["balance_as_of"])
    points = {(p["kind"], p["value"]) for p in card["contact_points"]}
    assert {("phone", "+380670000101"), ("email", "olena.shevchenko@demo.switchboard.ua"),
            ("telegram", "100000101")} <= points
    assert card["contact_points"][0]["is_primary"]
    assert card["open_tickets"] == [] and card["past_tickets"] == [] and card["last_messages"] == []
    assert card["related_contacts"] == []


async def test_card_shows_the_others_on_the_same_account(conn, callers):
    card = await client_card(conn, callers["spouse_wife"].client_id)
    assert card["accounts"][0]["roles"] == ["co_owner"]
    (husband,) = card["related_contacts"]
    assert husband["client_id"] == callers["spouse_husband"].client_id
    assert husband["roles"] == [{"account_id": card["accounts"][0]["id"], "account_no": "0100000401",
                                 "role": "owner"}]
    assert husband["phones"] == ["+380670000401", "+380321000404"]


async def test_card_splits_open_and_past_tickets_and_shows_last_messages(conn, callers):
    client_id = callers["vip"].client_id
    now = datetime.now(UTC)
    old = await _add_ticket(conn, client_id, "closed", now - timedelta(days=30), channel="viber",
                            messages=[("in", "Лічильник не працює"), ("out", "Майстер прийде завтра")])
    resolved = await _add_ticket(conn, client_id, "resolved", now - timedelta(days=3))
    open_new = await _add_ticket(conn, client_id, "new", now - timedelta(hours=1), channel="email",
                                 messages=[("in", "Прошу перерахувати борг")])
    open_held = await _add_ticket(conn, client_id, "on_hold", now - timedelta(hours=5))
    card = await client_card(conn, client_id)
    json.dumps(card)
    assert [t["id"] for t in card["open_tickets"]] == [open_new, open_held]
    assert [t["id"] for t in card["past_tickets"]] == [resolved, old]
    assert card["open_tickets"][0]["channel"] == "email" and card["open_tickets"][0]["status"] == "new"
    texts = [(m["direction"], m["text"], m["channel"]) for m in card["last_messages"]]
    assert texts == [("in", "Прошу перерахувати борг", "email"), ("out", "Майстер прийде завтра", "viber"),
                     ("in", "Лічильник не працює", "viber")]
    limited = await client_card(conn, client_id, tickets_limit=1, messages_limit=2)
    assert [t["id"] for t in limited["open_tickets"]] == [open_new]
    assert [t["id"] for t in limited["past_tickets"]] == [resolved]
    assert len(limited["last_messages"]) == 2


async def test_other_clients_tickets_stay_off_the_card(conn, callers):
    await _add_ticket(conn, callers["organisation"].client_id, "new", datetime.now(UTC))
    card = await client_card(conn, callers["household"].client_id)
    assert card["open_tickets"] == []


async def test_unknown_client_has_no_card(conn):
    assert await client_card(conn, 10**12) is None
