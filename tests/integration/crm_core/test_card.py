"""The client card on PostgreSQL: client, accounts with balances, contacts, related people, tickets, messages.

Uses the demo callers (a household with two accounts; a married couple sharing an account and a
landline) and tickets/messages written here the way the engine writes them.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from crm_core.card import (
    ACCOUNTS_ON_CARD,
    CONVERSATIONS_ON_CARD,
    MESSAGE_PREVIEW_CHARS,
    RELATED_CONTACTS_ON_CARD,
    client_card,
)
from crm_core.database import async_engine
from crm_core.driver_sql import AutocommitPool
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


async def _add_ticket(conn, client_id, status, created_at, channel="telegram", messages=(), *,
                      conversation_id=None, **columns):
    """A ticket (on a new conversation unless ``conversation_id``) and its ``messages`` a minute apart;
    ``columns`` sets (or clears, with None) more columns of the ticket."""
    tag = uuid.uuid4().hex[:10]
    if conversation_id is None:
        conversation_id = (await conn.execute(text(
            "INSERT INTO conversations (thread_key, channel, status, routing_state, state)"
            " VALUES (:k, :c, 'closed', 'done', '{}') RETURNING id"),
            {"k": f"{channel}:{tag}", "c": channel})).scalar_one()
    values = {"number": f"T-{tag}", "conversation_id": conversation_id, "channel": channel,
              "created_at": created_at, "client_id": client_id, "status": status,
              "subject": f"Звернення {tag}", **columns}
    ticket_id = (await conn.execute(text(
        f"INSERT INTO tickets (identified, type, priority, attributes, {', '.join(values)})"
        f" VALUES (true, 'request', 'normal', '{{}}', {', '.join(':' + name for name in values)})"
        " RETURNING id"), values)).scalar_one()
    for offset, (direction, body) in enumerate(messages):
        await conn.execute(text(
            "INSERT INTO messages (conversation_id, ticket_id, direction, author, text, attachments,"
            " dedupe_key, at) VALUES (:conv, :t, :d, 'client', :body, '{}', :k, :at)"),
            {"conv": conversation_id, "t": ticket_id, "d": direction, "body": body, "k": f"{tag}:{offset}",
             "at": created_at + timedelta(minutes=offset)})
    return ticket_id


async def _add_client(conn, full_name, created_at=None, kind="person"):
    return (await conn.execute(text(
        "INSERT INTO clients (kind, full_name, segment, language, created_at)"
        " VALUES (:kind, :name, 'regular', 'uk', coalesce(:at, now())) RETURNING id"),
        {"kind": kind, "name": full_name, "at": created_at})).scalar_one()


async def _add_accounts(conn, client_id, role, count=1, balance="0.00", balance_as_of=None):
    """``count`` new accounts of ``client_id`` in ``role``, as (id, account_no), by account number."""
    tag = uuid.uuid4().hex[:10]
    rows = (await conn.execute(text(
        "INSERT INTO accounts (account_no, eic_code, service_address, tariff, balance, balance_as_of)"
        " SELECT :tag || lpad(n::text, 5, '0'), 'E' || :tag || lpad(n::text, 5, '0'),"
        " 'вул. \"Тест\" \\ ' || n, 'Побутовий', CAST(:balance AS numeric), coalesce(:at, now())"
        " FROM generate_series(1, :count) n RETURNING id, account_no"),
        {"tag": tag, "balance": balance, "at": balance_as_of, "count": count})).all()
    for account_id, _ in rows:
        await _add_role(conn, account_id, client_id, role)
    return sorted(((account_id, account_no) for account_id, account_no in rows), key=lambda row: row[1])


async def _add_role(conn, account_id, client_id, role):
    await conn.execute(text("INSERT INTO account_roles (account_id, client_id, role) VALUES (:a, :c, :r)"),
                       {"a": account_id, "c": client_id, "r": role})


async def _add_contact_point(conn, client_id, kind, value, primary=False):
    await conn.execute(text("INSERT INTO contact_points (client_id, kind, value, is_primary)"
                            " VALUES (:c, :k, :v, :p)"),
                       {"c": client_id, "k": kind, "v": value, "p": primary})


async def _iso(conn, moment):
    """``moment`` as the card writes it: ``isoformat()`` in the session's time zone."""
    zone = (await conn.execute(text("SHOW TimeZone"))).scalar_one()
    return moment.astimezone(ZoneInfo(zone)).isoformat()


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


async def test_card_of_a_client_with_no_accounts_and_no_contact_points(conn):
    created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # no microseconds: isoformat() writes no fraction
    client_id = await _add_client(conn, "Без рахунків", created)
    assert await client_card(conn, client_id) == {
        "client": {"id": client_id, "kind": "person", "full_name": "Без рахунків", "segment": "regular",
                   "language": "uk", "created_at": await _iso(conn, created), "version": 1, "active": True,
                   "merged_into": None},
        "contact_points": [], "accounts": [], "accounts_total": 0, "related_contacts": [], "open_tickets": [],
        "past_tickets": [], "last_messages": [],
        "dashboard": {"payments_count": 0, "payments_sum": "0.00", "last_payment": None, "debt": "0.00",
                      "overpayment": "0.00", "open_tickets": 0}}


async def test_accounts_roles_contact_points_and_related_contacts_in_detail(conn):
    client_id = await _add_client(conn, "Клієнт з ролями")
    as_of = datetime(2026, 3, 1, tzinfo=UTC)
    ((flat, flat_no),) = await _add_accounts(conn, client_id, "contact_person", balance="-0.01",
                                             balance_as_of=as_of + timedelta(microseconds=1))
    await _add_role(conn, flat, client_id, "owner")
    ((garage, garage_no),) = await _add_accounts(conn, client_id, "co_owner", balance="1234567890.10",
                                                 balance_as_of=as_of)
    await _add_contact_point(conn, client_id, "telegram", "777")
    await _add_contact_point(conn, client_id, "email", "a@b.ua")
    await _add_contact_point(conn, client_id, "phone", "+380671112233", primary=True)
    neighbour = await _add_client(conn, 'Сусід "Іван"')
    await _add_role(conn, garage, neighbour, "owner")
    await _add_role(conn, flat, neighbour, "contact_person")
    await _add_role(conn, flat, neighbour, "co_owner")
    await _add_contact_point(conn, neighbour, "phone", "+380501110000")
    await _add_contact_point(conn, neighbour, "email", "ivan@b.ua")
    await _add_contact_point(conn, neighbour, "phone", "+380441110000", primary=True)
    silent = await _add_client(conn, "ТОВ Без телефону", kind="organisation")
    await _add_role(conn, garage, silent, "owner")

    card = await client_card(conn, client_id)
    json.dumps(card)
    assert [a["account_no"] for a in card["accounts"]] == sorted([flat_no, garage_no])
    assert card["accounts_total"] == 2
    flat_card, garage_card = sorted(card["accounts"], key=lambda a: a["id"] != flat)
    assert sorted(flat_card.pop("roles")) == ["contact_person", "owner"]
    assert flat_card == {"id": flat, "account_no": flat_no, "eic_code": f"E{flat_no}",
                         "service_address": 'вул. "Тест" \\ 1', "tariff": "Побутовий", "balance": "-0.01",
                         "balance_as_of": await _iso(conn, as_of + timedelta(microseconds=1)), "billing": None}
    assert garage_card["roles"] == ["co_owner"] and garage_card["balance"] == "1234567890.10"
    assert garage_card["balance_as_of"] == await _iso(conn, as_of)
    assert card["dashboard"] == {"payments_count": 0, "payments_sum": "0.00", "last_payment": None,
                                 "debt": "0.01", "overpayment": "1234567890.10", "open_tickets": 0}
    assert [{k: v for k, v in p.items() if k != "id"} for p in card["contact_points"]] == [
        {"kind": "phone", "value": "+380671112233", "is_primary": True},
        {"kind": "email", "value": "a@b.ua", "is_primary": False},
        {"kind": "telegram", "value": "777", "is_primary": False}]
    assert all(isinstance(p["id"], int) for p in card["contact_points"])
    neighbour_roles = [{"account_id": flat, "account_no": flat_no, "role": "co_owner"},
                       {"account_id": flat, "account_no": flat_no, "role": "contact_person"},
                       {"account_id": garage, "account_no": garage_no, "role": "owner"}]
    assert card["related_contacts"] == [
        {"client_id": neighbour, "full_name": 'Сусід "Іван"', "kind": "person",
         "roles": sorted(neighbour_roles, key=lambda r: (r["account_no"], r["role"])),
         "phones": ["+380441110000", "+380501110000"]},
        {"client_id": silent, "full_name": "ТОВ Без телефону", "kind": "organisation",
         "roles": [{"account_id": garage, "account_no": garage_no, "role": "owner"}], "phones": []}]


async def test_accounts_and_related_contacts_are_capped(conn):
    client_id = await _add_client(conn, "Велика організація", kind="organisation")
    accounts = await _add_accounts(conn, client_id, "owner", count=ACCOUNTS_ON_CARD + 5)
    (first, _), (beyond_the_cap, _) = accounts[0], accounts[-1]
    only_off_the_card = await _add_client(conn, "Лише на рахунку поза карткою")  # the lowest id of them all
    await _add_role(conn, beyond_the_cap, only_off_the_card, "contact_person")
    related = [await _add_client(conn, f"Співвласник {n}") for n in range(RELATED_CONTACTS_ON_CARD + 3)]
    for other in related:  # two roles each: the cap counts people, not roles
        await _add_role(conn, first, other, "co_owner")
        await _add_role(conn, accounts[1][0], other, "contact_person")

    card = await client_card(conn, client_id)
    assert [a["id"] for a in card["accounts"]] == [a for a, _ in accounts[:ACCOUNTS_ON_CARD]]
    assert card["accounts_total"] == ACCOUNTS_ON_CARD + 5
    assert [r["client_id"] for r in card["related_contacts"]] == sorted(related)[:RELATED_CONTACTS_ON_CARD]
    assert card["related_contacts"][0]["roles"] == [
        {"account_id": first, "account_no": accounts[0][1], "role": "co_owner"},
        {"account_id": accounts[1][0], "account_no": accounts[1][1], "role": "contact_person"}]


async def test_ticket_and_message_columns_nulls_and_timestamps(conn):
    client_id = await _add_client(conn, "Клієнт з тікетами")
    at = datetime(2026, 12, 6, 15, 42, 49, 100000, tzinfo=UTC)  # isoformat() writes .100000, not .1
    bare = await _add_ticket(conn, client_id, "new", at, subject=None)
    full = await _add_ticket(
        conn, client_id, "closed", at - timedelta(days=1), channel="email", category="billing",
        queue="general", agent_id=7, account_id=42, first_response_due=at,
        resolution_due=at.replace(microsecond=0),
        first_response_at=at + timedelta(microseconds=1), resolved_at=at.replace(microsecond=0),
        closed_at=at + timedelta(hours=1))
    tie = await _add_ticket(conn, client_id, "on_hold", at, channel="viber")  # same created_at as bare: by id
    long_text = "Ї\"\\\n\u0001😀" * 100
    nowhere = 10**15 + client_id  # a conversation that is not there: the message has no channel
    lost = await _add_ticket(conn, client_id, "resolved", at - timedelta(days=2), conversation_id=nowhere,
                             messages=[("in", long_text)])
    await conn.execute(text("UPDATE messages SET ticket_id = NULL, delivery_status = 'sent'"
                            " WHERE conversation_id = :c"), {"c": nowhere})

    card = await client_card(conn, client_id)
    json.dumps(card)
    assert [t["id"] for t in card["open_tickets"]] == [tie, bare]
    assert [t["id"] for t in card["past_tickets"]] == [full, lost]
    assert card["open_tickets"][1] == {
        "id": bare, "number": card["open_tickets"][1]["number"], "channel": "telegram", "status": "new",
        "priority": "normal", "type": "request", "category": None, "subject": None, "queue": None,
        "agent_id": None, "account_id": None, "created_at": await _iso(conn, at), "first_response_due": None,
        "resolution_due": None, "first_response_at": None, "resolved_at": None, "closed_at": None}
    closed = card["past_tickets"][0]
    assert [closed[k] for k in ("channel", "category", "queue", "agent_id", "account_id")] == [
        "email", "billing", "general", 7, 42]
    assert [closed[k] for k in ("created_at", "first_response_due", "resolution_due", "first_response_at",
                                "resolved_at", "closed_at")] == [
        await _iso(conn, moment) for moment in (at - timedelta(days=1), at, at.replace(microsecond=0),
                                                at + timedelta(microseconds=1), at.replace(microsecond=0),
                                                at + timedelta(hours=1))]
    (message,) = card["last_messages"]
    assert message == {"id": message["id"], "conversation_id": nowhere, "ticket_id": None, "channel": None,
                       "direction": "in", "author": "client", "text": long_text[:MESSAGE_PREVIEW_CHARS],
                       "delivery_status": "sent", "at": await _iso(conn, at - timedelta(days=2))}


async def test_last_messages_are_capped_per_conversation_and_in_conversations(conn):
    client_id = await _add_client(conn, "Балакучий клієнт")
    start = datetime(2026, 6, 1, tzinfo=UTC)
    chatty = await _add_ticket(conn, client_id, "new", start - timedelta(days=1),
                               messages=[("in", f"повідомлення {n}") for n in range(25)])
    card = await client_card(conn, client_id)
    assert [m["text"] for m in card["last_messages"]] == [f"повідомлення {n}" for n in range(24, 4, -1)]
    assert {m["ticket_id"] for m in card["last_messages"]} == {chatty}
    for n in range(CONVERSATIONS_ON_CARD):  # newer tickets push the chatty conversation off the card
        await _add_ticket(conn, client_id, "closed", start + timedelta(hours=n),
                          messages=[("out", f"нове {n}")])
    card = await client_card(conn, client_id, tickets_limit=3, messages_limit=100)
    assert [m["text"] for m in card["last_messages"]] == [
        f"нове {n}" for n in reversed(range(CONVERSATIONS_ON_CARD))]
    assert len(card["past_tickets"]) == 3 and card["open_tickets"][0]["id"] == chatty
    empty = await client_card(conn, client_id, tickets_limit=0, messages_limit=0)
    assert empty["open_tickets"] == empty["past_tickets"] == empty["last_messages"] == []


async def test_timestamps_are_written_in_the_session_time_zone(db_url):
    engine = async_engine(db_url, isolation_level="AUTOCOMMIT",
                          connect_args={"options": "-c timezone=Asia/Kathmandu"})
    try:
        async with engine.connect() as kathmandu:
            long_ago = datetime(1900, 1, 1, tzinfo=UTC)  # local mean time then: an offset with seconds
            client_id = await _add_client(kathmandu, "Давній клієнт", long_ago)
            await _add_accounts(kathmandu, client_id, "owner", balance_as_of=datetime(2026, 1, 1, tzinfo=UTC))
            card = await client_card(kathmandu, client_id)
    finally:
        await engine.dispose()
    assert card["client"]["created_at"] == "1900-01-01T05:41:16+05:41:16"
    assert card["accounts"][0]["balance_as_of"] == "2026-01-01T05:45:00+05:45"


async def test_card_through_an_autocommit_pool_is_the_same(db_url, conn, callers):
    client_id = await _add_client(conn, "Клієнт через пул")
    ((account, _),) = await _add_accounts(conn, client_id, "owner")
    await _add_role(conn, account, callers["vip"].client_id, "contact_person")
    await _add_ticket(conn, client_id, "new", datetime.now(UTC), messages=[("in", "Добрий день")])
    engine = async_engine(db_url)
    pool = AutocommitPool(engine)
    try:
        through_pool = await client_card(pool, client_id)
    finally:
        await pool.close()
        await engine.dispose()
    assert through_pool == await client_card(conn, client_id)
    assert through_pool["related_contacts"] and through_pool["open_tickets"] and through_pool["last_messages"]
