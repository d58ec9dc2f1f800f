"""Search by name, address, phone, account number, e-mail and EIC, partial and combined, on PostgreSQL.

Names and places are made unique to this module (a made-up surname stem, a made-up street) because the
session database is shared; the forms typed into the search are what agents type (a part of a
surname, "Хрещатик 12", the last digits of a phone, the first digits of an account number).
"""

from __future__ import annotations

import random
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from crm_core.database import async_engine
from crm_core.search import SCAN_LIMIT, SearchError, SearchQuery, Term, search, search_statement
from crm_core.seed import seed
from crm_core.seed.demo import DemoAccount, DemoClient, add_known_clients

pytestmark = pytest.mark.integration

_rng = random.Random(uuid.uuid4().int)
_SYLLABLES = ("бо", "ри", "ва", "ле", "ту", "ми", "ка", "до", "зе", "ню", "ша", "го")
STEM = "".join(_rng.choice(_SYLLABLES) for _ in range(4)).capitalize()  # e.g. "Бориваду"
STREET = "вул. " + "".join(_rng.choice(_SYLLABLES) for _ in range(4)).capitalize() + "івська"


def _phone() -> str:
    return f"+380670{_rng.randrange(100_000, 1_000_000)}"


def _number() -> str:
    return f"08{_rng.randrange(10**8):08d}"


def _account(address: str, role: str = "owner", number: str | None = None) -> DemoAccount:
    return DemoAccount(number or _number(), address, "Побутовий річний", "0.00", role)


@pytest.fixture(scope="module")
def people(db_url):
    kyiv, lviv = f"м. Київ, {STREET}, буд. 12, кв. 7", f"м. Львів, {STREET}, буд. 40"
    clients = [
        DemoClient("kyiv", f"{STEM}енко Олена Петрівна", "person", "regular", (_phone(),),
                   f"olena.{uuid.uuid4().hex[:10]}@ukr.net", None, None,
                   (_account(kyiv),)),
        DemoClient("lviv", f"{STEM}енко Андрій Іванович", "person", "regular", (_phone(),), None, None, None,
                   (_account(lviv),)),
        DemoClient("kyiv_other", f"Мельник Ірина {STEM}івна", "person", "regular", (_phone(),), None, None, None,
                   (_account(f"м. Київ, {STREET}, буд. 125, кв. 1"),)),
        DemoClient("no_accounts", f"{STEM}чук Василь Петрович", "person", "regular", (_phone(),), None, None,
                   None, ()),
    ]
    return {c.key: c for c in add_known_clients(db_url, clients)}


@pytest.fixture(scope="module")
async def conn(db_url, people):
    seed(db_url, 3000, progress=False, seed=9)
    engine = async_engine(db_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        yield connection
    await engine.dispose()


def _clients(result):
    return {hit.client_id for hit in result.hits}


async def test_partial_name(conn, people):
    result = await search(conn, SearchQuery([Term("name", STEM.lower() + "ен")]))
    assert _clients(result) == {people["kyiv"].client_id, people["lviv"].client_id}
    assert not result.truncated


async def test_name_and_address_must_both_match(conn, people):
    result = await search(conn, SearchQuery([Term("name", f"{STEM}енко"), Term("address", "Київ")], mode="and"))
    assert _clients(result) == {people["kyiv"].client_id}
    hit = result.hits[0]
    assert hit.service_address.startswith("м. Київ") and hit.role == "owner" and hit.account_no


async def test_name_or_address_may_match_either(conn, people):
    result = await search(conn, SearchQuery([Term("name", f"{STEM}чук"), Term("address", f"{STREET} 125")],
                                            mode="or"))
    assert _clients(result) == {people["no_accounts"].client_id, people["kyiv_other"].client_id}
    no_accounts = next(h for h in result.hits if h.client_id == people["no_accounts"].client_id)
    assert no_accounts.account_id is None and no_accounts.account_no is None


async def test_address_by_street_and_house(conn, people):
    street_word = STREET.split()[1]
    result = await search(conn, SearchQuery([Term("address", f"{street_word} 12")]))
    # "12" is part of house 12 and of house 125
    assert _clients(result) == {people["kyiv"].client_id, people["kyiv_other"].client_id}
    result = await search(conn, SearchQuery([Term("address", f"Львів {street_word.lower()}")]))
    assert _clients(result) == {people["lviv"].client_id}


async def test_better_match_ranks_first(conn, people):
    result = await search(conn, SearchQuery([Term("name", f"{STEM}енко Олена Петрівна")], limit=5))
    assert result.hits[0].client_id == people["kyiv"].client_id
    assert result.hits[0].score > result.hits[-1].score or len(result.hits) == 1


async def test_typo_finds_by_similarity_when_nothing_matches_exactly(conn, people):
    misspelt = f"{STEM}инко Олена Петрівна"
    result = await search(conn, SearchQuery([Term("name", misspelt)]))
    assert people["kyiv"].client_id in _clients(result)


async def test_phone_whole_in_any_form_or_by_its_last_digits(conn, people):
    phone = people["lviv"].phones[0]
    for typed in (phone, f"0{phone[4:6]} {phone[6:9]} {phone[9:11]} {phone[11:]}", phone[-7:]):
        result = await search(conn, SearchQuery([Term("phone", typed)]))
        assert people["lviv"].client_id in _clients(result), typed
    exact = await search(conn, SearchQuery([Term("phone", phone)]))
    assert _clients(exact) == {people["lviv"].client_id}


async def test_account_number_prefix_and_eic(conn, people):
    number = people["kyiv"].account_numbers[0]
    result = await search(conn, SearchQuery([Term("account_no", number)]))
    assert [h.account_no for h in result.hits] == [number] and result.hits[0].score == 1.0
    prefix = await search(conn, SearchQuery([Term("account_no", number[:8])], limit=500))
    assert number in {h.account_no for h in prefix.hits}
    eic = (await conn.execute(text("SELECT eic_code FROM accounts ORDER BY id LIMIT 1"))).scalar_one()
    by_eic = await search(conn, SearchQuery([Term("eic", eic.lower())]))
    assert len({h.account_id for h in by_eic.hits}) == 1


async def test_email_whole_or_part(conn):
    email = (await conn.execute(text(
        "SELECT value FROM contact_points WHERE kind = 'email' ORDER BY id LIMIT 1"))).scalar_one()
    whole = await search(conn, SearchQuery([Term("email", email.upper())]))
    part = await search(conn, SearchQuery([Term("email", email.split("@")[0][-8:])]))
    assert whole.hits and _clients(whole) <= _clients(part)


async def test_limit_caps_the_hits_and_truncated_tells_when_more_matched(conn):
    result = await search(conn, SearchQuery([Term("address", "вул.")], limit=7))
    assert len(result.hits) == 7
    assert result.truncated  # thousands of seeded accounts are on a "вул."
    assert SCAN_LIMIT > 7


@pytest.mark.parametrize("query, message", [
    (SearchQuery([]), "at least one search term"),
    (SearchQuery([Term("name", "Ко")]), "at least one word"),
    (SearchQuery([Term("phone", "067")]), "at least 5 digits"),
    (SearchQuery([Term("account_no", "12")]), "leading digits"),
    (SearchQuery([Term("eic", "56XS")]), "whole 16-character"),
    (SearchQuery([Term("colour", "red")]), "unknown search field"),
    (SearchQuery([Term("name", "Шевченко")], mode="xor"), "unknown search mode"),
    (SearchQuery([Term("name", "Шевченко")], limit=0), "limit"),
])
async def test_bad_queries_get_a_clear_error(conn, query, message):
    with pytest.raises(SearchError, match=message):
        await search(conn, query)


async def test_special_characters_are_literal(conn):
    result = await search(conn, SearchQuery([Term("name", "%%%_")]))
    assert result.hits == ()


@pytest.mark.parametrize("terms, index", [
    ([Term("name", "Шевченко")], "ix_clients_full_name_trgm"),
    ([Term("address", "Хрещатик")], "ix_accounts_address_trgm"),
    ([Term("account_no", "12345")], "ix_accounts_account_no_pattern"),
])
async def test_each_term_is_answered_from_its_index(conn, terms, index):
    """On this small table a walk over the primary key is as cheap as anything; with plain scans priced
    out, the only plan left must match the term through its own index (as it does at millions of rows)."""
    compiled = search_statement(SearchQuery(terms)).compile(dialect=conn.dialect)
    await conn.exec_driver_sql("SET enable_seqscan = off")
    await conn.exec_driver_sql("SET enable_indexscan = off")
    try:
        rows = await conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params)
        plan = "\n".join(row[0] for row in rows)
    finally:
        await conn.exec_driver_sql("RESET enable_seqscan")
        await conn.exec_driver_sql("RESET enable_indexscan")
    assert index in plan, plan
    assert "Seq Scan" not in plan, plan


async def test_search_leaves_the_connection_as_it_found_it(db_url, conn):
    await search(conn, SearchQuery([Term("name", "Шевченко")]))
    assert (await conn.exec_driver_sql("SHOW enable_seqscan")).scalar_one() == "on"
    engine = async_engine(db_url)  # a connection inside a transaction that fails mid-search
    try:
        async with engine.connect() as in_transaction:
            await in_transaction.exec_driver_sql("SET statement_timeout = 1")
            with pytest.raises(DBAPIError, match="statement timeout"):
                await search(in_transaction, SearchQuery([Term("address", "вул.")], limit=500))
            await in_transaction.rollback()
            assert (await in_transaction.exec_driver_sql("SHOW enable_seqscan")).scalar_one() == "on"
    finally:
        await engine.dispose()
