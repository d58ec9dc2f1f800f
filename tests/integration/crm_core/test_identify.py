"""Identify a client by phone, e-mail, messenger id or account number on a real PostgreSQL.

The clients are written with ``add_known_clients`` under names and numbers unique to this module (the
session database is shared by every integration test); the phone forms are those of the unit tests.
"""

from __future__ import annotations

import random
import uuid

import pytest
from sqlalchemy import text

from crm_core.database import async_engine
from crm_core.identify import BY_ACCOUNT_NO, BY_CONTACT_POINT, identify
from crm_core.seed import seed, seed_demo_callers
from crm_core.seed.demo import SHARED_LANDLINE, DemoAccount, DemoClient, add_known_clients

pytestmark = pytest.mark.integration

_rng = random.Random(uuid.uuid4().int)


def _phone() -> str:
    return f"+380670{_rng.randrange(100_000, 1_000_000)}"


def _account_no() -> str:
    return f"09{_rng.randrange(10**8):08d}"


def _account(role: str, number: str | None = None) -> DemoAccount:
    return DemoAccount(number or _account_no(), "м. Полтава, вул. Соборності, буд. 1, кв. 2", "Побутовий річний",
                       "10.00", role)


@pytest.fixture(scope="module")
def family(db_url):
    """Husband owns one flat, wife owns two (and co-owns the husband's); they share a landline."""
    landline, flat = _phone(), _account_no()
    wife = DemoClient("wife", "Гнатюк Ірина Степанівна", "person", "regular", (_phone(), landline),
                      f"iryna.{uuid.uuid4().hex[:8]}@ukr.net", str(_rng.randrange(10**8)), None,
                      (_account("owner"), _account("owner"), _account("co_owner", flat)))
    husband = DemoClient("husband", "Гнатюк Тарас Іванович", "person", "regular", (_phone(), landline), None,
                         None, f"vb{uuid.uuid4().hex[:20]}==", (_account("owner", flat),))
    callers = add_known_clients(db_url, [husband, wife])
    return {"landline": landline, "flat": flat, "callers": {c.key: c for c in callers}}


@pytest.fixture(scope="module")
async def conn(db_url, family):
    seed(db_url, 2000, progress=False, seed=5)
    engine = async_engine(db_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        yield connection
    await engine.dispose()


@pytest.mark.parametrize("form", ["{n}", "{n0}", "{n380}", "+38 ({a}) {b}-{c}-{d}", '"Ірина" <{n0}>',
                                  "8{n0}"])
async def test_identify_by_phone_in_any_form(conn, family, form):
    wife = family["callers"]["wife"]
    phone = wife.phones[0]
    written = form.format(n=phone, n0=phone[3:], n380=phone[1:], a=phone[3:6], b=phone[6:9], c=phone[9:11],
                          d=phone[11:])
    found = await identify(conn, "phone", written)
    assert found is not None and found.client_id == wife.client_id
    assert found.full_name == "Гнатюк Ірина Степанівна" and found.segment == "regular" and found.language == "uk"
    assert not found.ambiguous and found.candidates == (wife.client_id,)
    assert found.matched_value == phone and found.accounts_total == 3 and len(found.account_numbers) == 3
    assert found.account_id is None  # three accounts: which one the call is about is not known


async def test_identify_by_email_telegram_and_viber(conn, family):
    wife, husband = family["callers"]["wife"], family["callers"]["husband"]
    by_email = await identify(conn, "email", f"  {wife.email.upper()} ")
    by_telegram = await identify(conn, "telegram", int(wife.telegram))
    by_viber = await identify(conn, "viber", husband.viber)
    assert by_email.client_id == by_telegram.client_id == wife.client_id
    assert by_viber.client_id == husband.client_id
    assert by_viber.account_numbers == (family["flat"],) and by_viber.account_id is not None


async def test_shared_landline_is_ambiguous_and_picks_the_owner_of_most_accounts(conn, family):
    wife, husband = family["callers"]["wife"], family["callers"]["husband"]
    found = await identify(conn, "phone", family["landline"])
    assert found.ambiguous
    assert found.client_id == wife.client_id  # owns two accounts; the husband owns one
    assert set(found.candidates) == {wife.client_id, husband.client_id}
    assert found.candidates[0] == wife.client_id


async def test_account_number_picks_the_owner_before_the_co_owner(conn, family):
    found = await identify(conn, "account_no", " ".join([family["flat"][:4], family["flat"][4:]]))
    husband, wife = family["callers"]["husband"], family["callers"]["wife"]
    assert found.client_id == husband.client_id and not found.ambiguous
    assert set(found.candidates) == {husband.client_id, wife.client_id}
    assert found.account_numbers == (family["flat"],)
    flat_id = (await conn.execute(text("SELECT id FROM accounts WHERE account_no = :n"),
                                  {"n": family["flat"]})).scalar_one()
    assert found.account_id == flat_id


async def test_demo_callers_identify_and_their_family_line_is_ambiguous(db_url, conn):
    callers = {c.key: c for c in seed_demo_callers(db_url)}
    household = await identify(conn, "phone", "067 000 01 01")
    assert household.client_id == callers["household"].client_id
    shared = await identify(conn, "phone", SHARED_LANDLINE)
    assert shared.ambiguous
    assert set(shared.candidates) == {callers["spouse_husband"].client_id, callers["spouse_wife"].client_id}


async def test_seeded_clients_are_found_by_their_contacts(conn):
    rows = (await conn.execute(text(
        "SELECT p.kind, p.value, p.client_id FROM contact_points p"
        " WHERE p.kind IN ('phone', 'email', 'telegram', 'viber') ORDER BY p.id DESC LIMIT 200"))).all()
    for kind, value, client_id in rows:
        found = await identify(conn, kind, value)
        assert found is not None and client_id in found.candidates


@pytest.mark.parametrize("kind, value", [("phone", "anonymous"), ("phone", "<unknown>"), ("phone", "104"),
                                         ("phone", "+380679999999"), ("email", "nobody@nowhere.ua"),
                                         ("email", "not an email"), ("telegram", "   "),
                                         ("account_no", "0000000000"), ("account_no", "12-AB")])
async def test_unknown_or_unusable_values_give_none(conn, kind, value):
    assert await identify(conn, kind, value) is None


async def test_unknown_kind_is_refused(conn):
    with pytest.raises(ValueError, match="cannot identify by 'fax'"):
        await identify(conn, "fax", "0441234567")


@pytest.mark.parametrize("statement", [BY_CONTACT_POINT, BY_ACCOUNT_NO], ids=["contact_point", "account_no"])
async def test_identify_needs_no_table_scan(conn, statement):
    """With sequential scans priced out, the plan still needs none: every step has a btree index."""
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": False})
    sql = str(compiled)
    params = {**compiled.params, "kind": "phone", "value": "+380670000101"}
    await conn.exec_driver_sql("SET enable_seqscan = off")
    try:
        plan = "\n".join(row[0] for row in (await conn.exec_driver_sql("EXPLAIN " + sql, params)).all())
    finally:
        await conn.exec_driver_sql("RESET enable_seqscan")
    assert "Seq Scan" not in plan, plan
    assert "trgm" not in plan, plan
