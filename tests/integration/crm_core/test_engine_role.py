"""The engine's database role cannot change or delete an audit row by any means (the audit log is
append-only: who/when/what/before/after of every change must survive the engine itself).  The owner URL
of the suite is a superuser's (the machine's PostgreSQL, or the embedded one's ``postgres``): the engine
makes its limited role from it, as ``switchboard run`` does."""

from __future__ import annotations

import psycopg
import pytest

from crm_core.database import libpq_dsn
from crm_core.roles import ENGINE_ROLE, ENGINE_URL_ENV, engine_url

pytestmark = pytest.mark.integration

ATTEMPTS = {
    "UPDATE": ["UPDATE audit_log SET actor = 'intruder' WHERE id = %(id)s"],
    "DELETE": ["DELETE FROM audit_log WHERE id = %(id)s"],
    "TRUNCATE": ["TRUNCATE audit_log"],
    "session_replication_role": ["SET session_replication_role = replica",
                                 "UPDATE audit_log SET actor = 'intruder' WHERE id = %(id)s"],
    "DISABLE TRIGGER": ["ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
                        "UPDATE audit_log SET actor = 'intruder' WHERE id = %(id)s"],
    "DISABLE TRIGGER ALL": ["ALTER TABLE audit_log DISABLE TRIGGER ALL",
                            "DELETE FROM audit_log WHERE id = %(id)s"],
    "DROP TRIGGER": ["DROP TRIGGER audit_log_no_update ON audit_log",
                     "DELETE FROM audit_log WHERE id = %(id)s"],
    "DROP FUNCTION": ["DROP FUNCTION audit_log_append_only() CASCADE",
                      "DELETE FROM audit_log WHERE id = %(id)s"],
    "CREATE OR REPLACE FUNCTION": [
        "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN RETURN NEW; END $$",
        "UPDATE audit_log SET actor = 'intruder' WHERE id = %(id)s"],
    "ALTER OWNER": [f"ALTER TABLE audit_log OWNER TO {ENGINE_ROLE}",
                    "DELETE FROM audit_log WHERE id = %(id)s"],
    "SET ROLE": ["SET ROLE postgres", "DELETE FROM audit_log WHERE id = %(id)s"],
    "GRANT": [f"GRANT UPDATE, DELETE ON audit_log TO {ENGINE_ROLE}",
              "DELETE FROM audit_log WHERE id = %(id)s"],
    "DROP TABLE": ["DROP TABLE audit_log CASCADE"],
    "RENAME": ["ALTER TABLE audit_log RENAME TO audit_log_old"],
}


@pytest.fixture
def audit_row(fresh_db_url):
    with psycopg.connect(libpq_dsn(fresh_db_url), autocommit=True) as owner:
        row_id = owner.execute("INSERT INTO audit_log (actor, action, entity, entity_id, after)"
                               " VALUES ('user:1', 'ticket.status', 'ticket', '42', '{\"status\": \"resolved\"}')"
                               " RETURNING id").fetchone()[0]
    return fresh_db_url, row_id


def test_the_engine_connects_as_a_role_that_is_neither_superuser_nor_owner(fresh_db_url, monkeypatch):
    monkeypatch.delenv(ENGINE_URL_ENV, raising=False)
    with psycopg.connect(libpq_dsn(engine_url(fresh_db_url)), autocommit=True) as conn:
        user, superuser, owner = conn.execute(
            "SELECT current_user, r.rolsuper, t.tableowner FROM pg_roles r, pg_tables t"
            " WHERE r.rolname = current_user AND t.tablename = 'audit_log'").fetchone()
        assert (user, superuser) == (ENGINE_ROLE, False) and owner != ENGINE_ROLE
        # it can still do the engine's work, audit entries included
        conn.execute("INSERT INTO audit_log (actor, action, entity, entity_id) VALUES ('engine', 'x', 'ticket', '1')")
        conn.execute("INSERT INTO clients (kind, full_name, segment, language) VALUES ('person', 'Тест', 'regular', 'uk')")
        conn.execute("UPDATE clients SET full_name = 'Тест Тестович' WHERE full_name = 'Тест'")


@pytest.mark.parametrize("means", list(ATTEMPTS))
def test_the_engine_role_cannot_change_or_delete_an_audit_row(audit_row, means, monkeypatch):
    monkeypatch.delenv(ENGINE_URL_ENV, raising=False)
    url, row_id = audit_row
    with psycopg.connect(libpq_dsn(engine_url(url))) as conn:
        with pytest.raises(psycopg.Error):
            for statement in ATTEMPTS[means]:
                conn.execute(statement, {"id": row_id})
        conn.rollback()
    with psycopg.connect(libpq_dsn(url), autocommit=True) as owner:
        assert owner.execute("SELECT actor FROM audit_log WHERE id = %s", (row_id,)).fetchone() == ("user:1",)
        triggers = owner.execute("SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass"
                                 " AND NOT tgisinternal ORDER BY tgname").fetchall()
        assert triggers == [("audit_log_no_truncate", "O"), ("audit_log_no_update", "O")]
