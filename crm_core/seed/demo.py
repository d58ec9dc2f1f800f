"""A few well-known clients the demo and manual tests call from.

Their phones, Telegram ids, account numbers and EIC codes lie in ranges the generator never uses
(mobile subscriber numbers below 1,000,000, Kyiv landlines starting with 1, Telegram ids below
300,000,000, account numbers starting with 0, EICs ``56XS99...``), so they identify exactly the client
described here, whatever was seeded.  Writing them again changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from crm_core.database import libpq_dsn
from crm_core.seed.codes import EIC_PREFIX, complete_eic
from routing.vocabulary import LEGAL, REGULAR, VIP


@dataclass(frozen=True, slots=True)
class DemoAccount:
    account_no: str
    service_address: str
    tariff: str
    balance: str
    role: str


@dataclass(frozen=True, slots=True)
class DemoClient:
    key: str
    full_name: str
    kind: str
    segment: str
    phones: tuple[str, ...]
    email: str | None
    telegram: str | None
    viber: str | None
    accounts: tuple[DemoAccount, ...]


@dataclass(frozen=True, slots=True)
class DemoCaller:
    """A demo client as stored: who calls or writes, from where, about which accounts."""

    key: str
    client_id: int
    full_name: str
    segment: str
    phones: tuple[str, ...]
    email: str | None
    telegram: str | None
    viber: str | None
    account_numbers: tuple[str, ...]


_FAMILY_FLAT = DemoAccount("0100000401", "м. Львів, вул. Городоцька, буд. 25, кв. 8", "Побутовий місячний",
                           "-1520.40", "owner")

DEMO_CLIENTS: tuple[DemoClient, ...] = (
    DemoClient("household", "Шевченко Олена Петрівна", "person", REGULAR, ("+380670000101",),
               "olena.shevchenko@demo.switchboard.ua", "100000101", None, (
                   DemoAccount("0100000101", "м. Київ, вул. Хрещатик, буд. 12, кв. 34", "Побутовий річний",
                               "-245.50", "owner"),
                   DemoAccount("0100000102", "Київська обл., Броварський р-н, с. Княжичі, вул. Шевченка, буд. 5",
                               "Побутовий річний", "120.00", "owner"))),
    DemoClient("vip", "Коваленко Андрій Іванович", "person", VIP, ("+380500000202",), None, None,
               "DemoViberUser0202AAAAA==", (
                   DemoAccount("0100000201", "м. Одеса, вул. Дерибасівська, буд. 3, кв. 5", "Побутовий фіксований",
                               "0.00", "owner"),)),
    DemoClient("organisation", 'ОСББ "Хрещатик 12"', "organisation", LEGAL, ("+380441000303",),
               "osbb.khreshchatyk12@demo.switchboard.ua", None, None, (
                   DemoAccount("0100000301", "м. Київ, вул. Хрещатик, буд. 12", "ОСББ", "-18340.75", "owner"),)),
    DemoClient("spouse_husband", "Бондаренко Ігор Миколайович", "person", REGULAR,
               ("+380670000401", "+380321000404"), None, "100000401", None, (_FAMILY_FLAT,)),
    DemoClient("spouse_wife", "Бондаренко Марія Олександрівна", "person", REGULAR,
               ("+380670000402", "+380321000404"), "maria.bondarenko@demo.switchboard.ua", None, None,
               (DemoAccount(_FAMILY_FLAT.account_no, _FAMILY_FLAT.service_address, _FAMILY_FLAT.tariff,
                            _FAMILY_FLAT.balance, "co_owner"),)),
)

SHARED_LANDLINE = "+380321000404"  # the Bondarenko family's landline: identifies ambiguously


def demo_eic(account_no: str) -> str:
    return complete_eic(f"{EIC_PREFIX}99{account_no[-8:]}")


def seed_demo_callers(url: str) -> list[DemoCaller]:
    """Make sure the demo clients exist (idempotent) and return them with their ids."""
    return add_known_clients(url, DEMO_CLIENTS)


def add_known_clients(url: str, clients: Sequence[DemoClient]) -> list[DemoCaller]:
    """Make sure each described client exists with its contact points, accounts and roles.

    A client is recognised by its first phone and its name, an account by its number, so writing the
    same descriptions again changes nothing.
    """
    callers: list[DemoCaller] = []
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (0x5EED_DE30,))
        for client in clients:
            client_id = _client_id(conn, client)
            for account in client.accounts:
                account_id = _account_id(conn, account)
                conn.execute("INSERT INTO account_roles (account_id, client_id, role) VALUES (%s, %s, %s)"
                             " ON CONFLICT DO NOTHING", (account_id, client_id, account.role))
            callers.append(DemoCaller(
                key=client.key, client_id=client_id, full_name=client.full_name, segment=client.segment,
                phones=client.phones, email=client.email, telegram=client.telegram, viber=client.viber,
                account_numbers=tuple(a.account_no for a in client.accounts)))
    return callers


def _client_id(conn: psycopg.Connection, client: DemoClient) -> int:
    """The demo client holding its own first phone, created with its contact points if missing."""
    found = conn.execute(
        "SELECT c.id FROM contact_points p JOIN clients c ON c.id = p.client_id"
        " WHERE p.kind = 'phone' AND p.value = %s AND c.full_name = %s ORDER BY c.id LIMIT 1",
        (client.phones[0], client.full_name)).fetchone()
    if found is not None:
        return int(found[0])
    row = conn.execute(
        "INSERT INTO clients (kind, full_name, segment, language) VALUES (%s, %s, %s, 'uk') RETURNING id",
        (client.kind, client.full_name, client.segment)).fetchone()
    assert row is not None
    client_id = int(row[0])
    points = [("phone", phone, index == 0) for index, phone in enumerate(client.phones)]
    points += [(kind, value, False) for kind, value in
               (("email", client.email), ("telegram", client.telegram), ("viber", client.viber)) if value]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO contact_points (client_id, kind, value, is_primary) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING", [(client_id, kind, value, primary) for kind, value, primary in points])
    return client_id


def _account_id(conn: psycopg.Connection, account: DemoAccount) -> int:
    conn.execute(
        "INSERT INTO accounts (account_no, eic_code, service_address, tariff, balance) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (account_no) DO NOTHING",
        (account.account_no, demo_eic(account.account_no), account.service_address, account.tariff,
         account.balance))
    row = conn.execute("SELECT id FROM accounts WHERE account_no = %s", (account.account_no,)).fetchone()
    assert row is not None
    return int(row[0])
