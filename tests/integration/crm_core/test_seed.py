"""Seeding on PostgreSQL: COPY of realistic rows, appending without clashes, index rebuild, the CLI."""

from __future__ import annotations

import re
import uuid

import psycopg
import pytest
from sqlalchemy import text

from crm_core.database import sync_engine
from crm_core.phones import normalize_email, normalize_phone
from crm_core.seed import main, seed
from crm_core.seed.codes import account_number, eic_check_char

pytestmark = pytest.mark.integration

TABLES = ("clients", "accounts", "account_roles", "contact_points")


@pytest.fixture
def engine(db_url):
    engine = sync_engine(db_url)
    yield engine
    engine.dispose()


def _counts(engine):
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def _secondary_indexes(engine):
    """Index name -> definition, and the unique constraints, of the seeded tables (primary keys aside)."""
    with engine.connect() as conn:
        indexes = dict(conn.execute(text(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname = ANY(:tables) AND NOT i.indisprimary"
            " AND i.indisvalid"), {"tables": list(TABLES)}).all())
        constraints = set(conn.execute(text(
            "SELECT conname FROM pg_constraint WHERE contype = 'u' AND conrelid::regclass::text = ANY(:tables)"),
            {"tables": list(TABLES)}).scalars())
    return indexes, constraints


def test_seed_writes_what_it_reports_and_it_looks_real(db_url, engine):
    before = _counts(engine)
    report = seed(db_url, 3000, progress=False, seed=21, chunk_accounts=700)
    after = _counts(engine)
    assert report.accounts == 3000
    assert {t: after[t] - before[t] for t in TABLES} == {
        "clients": report.clients, "accounts": report.accounts, "account_roles": report.account_roles,
        "contact_points": report.contact_points}
    assert 1.1 <= report.clients / report.accounts <= 1.3
    with engine.connect() as conn:
        accounts = conn.execute(text(
            "SELECT account_no, eic_code, service_address, tariff, balance, balance_as_of FROM accounts"
            " WHERE id >= :first"), {"first": report.first_account_id}).all()
        clients = conn.execute(text("SELECT kind, full_name, segment FROM clients WHERE id >= :first"),
                               {"first": report.first_client_id}).all()
        points = conn.execute(text("SELECT kind, value FROM contact_points WHERE client_id >= :first"),
                              {"first": report.first_client_id}).all()
        roles = dict(conn.execute(text(
            "SELECT role, count(*) FROM account_roles WHERE account_id >= :first GROUP BY role"),
            {"first": report.first_account_id}).all())
    for number, eic, address, tariff, balance, as_of in accounts:
        assert re.fullmatch(r"[1-9]\d{9}", number)
        assert eic.startswith("56XS") and eic_check_char(eic[:15]) == eic[15]
        assert re.match(r"(м\. [^,]+|[^,]+ обл\., [^,]+ р-н, с\. [^,]+), [^,]+, буд\. ", address), address
        assert tariff and balance is not None and as_of is not None
    people = [name for kind, name, _ in clients if kind == "person"]
    assert all(len(name.split()) == 3 for name in people)
    assert {segment for _, _, segment in clients} >= {"regular"}
    for kind, value in points:
        if kind == "phone":
            assert normalize_phone(value) == value
        if kind == "email":
            assert normalize_email(value) == value
    assert {kind for kind, _ in points} == {"phone", "email", "telegram", "viber"}
    assert roles["owner"] == 3000 and roles.get("co_owner", 0) > 0 and roles.get("contact_person", 0) > 0


def test_seeding_again_appends_without_clashes_and_keeps_sequences_ahead(db_url, engine):
    first = seed(db_url, 1500, progress=False, seed=1)
    second = seed(db_url, 1500, progress=False, seed=1)  # same seed: ids differ, so keys do too
    assert second.first_account_id == first.first_account_id + 1500
    assert second.first_client_id == first.first_client_id + first.clients
    with engine.begin() as conn:
        duplicates = conn.execute(text(
            "SELECT count(*) FROM (SELECT account_no FROM accounts GROUP BY account_no HAVING count(*) > 1) d"
        )).scalar_one()
        assert duplicates == 0
        new_id = conn.execute(text(
            "INSERT INTO clients (kind, full_name, segment, language) VALUES ('person', 'Новий Клієнт Тестович',"
            " 'regular', 'uk') RETURNING id")).scalar_one()
        assert new_id > second.first_client_id + second.clients - 1
    third = seed(db_url, 10, progress=False)
    assert third.first_client_id > new_id


def test_big_load_rebuilds_the_secondary_indexes(db_url, engine):
    indexes, constraints = _secondary_indexes(engine)
    assert {"ix_clients_full_name_trgm", "ix_accounts_address_trgm", "ix_contact_points_value_trgm",
            "ix_accounts_account_no_pattern"} <= set(indexes)
    assert {"accounts_account_no_key", "uq_contact_points_kind_value_client"} <= constraints
    report = seed(db_url, 1000, progress=False, rebuild_indexes=True)
    assert set(report.rebuilt_indexes) == set(indexes)
    rebuilt, rebuilt_constraints = _secondary_indexes(engine)
    assert rebuilt_constraints == constraints
    # the same indexes; PostgreSQL may print a partial index's predicate a little differently
    assert {n: d.split(" WHERE ")[0] for n, d in rebuilt.items()} == {
        n: d.split(" WHERE ")[0] for n, d in indexes.items()}
    assert "'phone'" in rebuilt["ix_contact_points_value_trgm"]


@pytest.mark.parametrize("rebuild", [True, False], ids=["indexes rebuilt", "indexes kept"])
def test_a_failed_load_leaves_the_database_as_it_was(db_url, engine, rebuild):
    """An account number already taken (written by hand) makes the load fail whole: no rows, same indexes."""
    with engine.begin() as conn:
        squatter = conn.execute(text(
            "INSERT INTO accounts (account_no, eic_code, service_address, tariff, balance)"
            " VALUES (:n, :e, 'м. Київ, вул. Січових Стрільців, буд. 1', 'Побутовий річний', 0) RETURNING id"),
            {"n": uuid.uuid4().hex[:10], "e": uuid.uuid4().hex[:16]}).scalar_one()
        conn.execute(text("UPDATE accounts SET account_no = :n WHERE id = :i"),
                     {"n": account_number(squatter + 3), "i": squatter})
    before, indexes = _counts(engine), _secondary_indexes(engine)
    with pytest.raises(psycopg.errors.UniqueViolation):
        seed(db_url, 50, progress=False, rebuild_indexes=rebuild)
    assert _counts(engine) == before
    assert _secondary_indexes(engine) == indexes
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM accounts WHERE id = :i"), {"i": squatter})
    assert seed(db_url, 50, progress=False).accounts == 50


def test_nothing_to_add_is_a_no_op(db_url, engine):
    before = _counts(engine)
    report = seed(db_url, 0, progress=False)
    assert report.accounts == report.clients == 0 and _counts(engine) == before
    with pytest.raises(ValueError):
        seed(db_url, -1, progress=False)


def test_cli_seeds_and_lists_the_demo_callers(db_url, engine, capsys):
    before = _counts(engine)
    assert main(["--accounts", "200", "--database-url", db_url, "--quiet", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "added 200 accounts" in out
    assert "demo caller household" in out and "+380670000101" in out
    assert _counts(engine)["accounts"] >= before["accounts"] + 200
