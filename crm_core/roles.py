"""The engine's own database role: one that can read and write the CRM's rows but cannot change or
delete an audit row by any means.

The owner of the schema (the role ``switchboard migrate`` connects as) owns the tables, so it may disable
or drop the audit log's append-only triggers, and a superuser may switch them off for its session
(``SET session_replication_role = replica``).  The engine therefore runs as ``switchboard_engine``:
not a superuser and not an owner, with SELECT/INSERT/UPDATE/DELETE on the tables but only SELECT and
INSERT on ``audit_log``.

``engine_url(owner_url)`` gives the URL the engine connects with: ``SWITCHBOARD_ENGINE_DATABASE_URL``
when set (a server of your own, with the role and grants made by its administrator, see the README);
otherwise, when the owner URL's role may create roles (the embedded server's, a superuser's), it creates
or refreshes the role and its grants in that database and answers the owner URL with the role's name
(and ``SWITCHBOARD_ENGINE_DB_PASSWORD`` as its password when set).  A role that can do neither is used
as it is, with a warning.
"""

from __future__ import annotations

import logging
import os

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

ENGINE_ROLE = "switchboard_engine"
ENGINE_URL_ENV = "SWITCHBOARD_ENGINE_DATABASE_URL"
ENGINE_PASSWORD_ENV = "SWITCHBOARD_ENGINE_DB_PASSWORD"
AUDIT_TABLE = "audit_log"
_CREATE_ROLE = """
DO $$ BEGIN
    CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;  -- made meanwhile by another start
END $$"""


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def engine_url(owner_url: str) -> str:
    """The URL the engine's processes connect with (see the module's description)."""
    explicit = os.environ.get(ENGINE_URL_ENV)
    if explicit:
        return explicit
    with psycopg.connect(_libpq(owner_url), autocommit=True) as conn:
        row = conn.execute("SELECT rolsuper, rolcreaterole, current_user FROM pg_roles"
                           " WHERE rolname = current_user").fetchone()
        assert row is not None
        superuser, create_role, user = row
        if user == ENGINE_ROLE:
            return owner_url
        if not (superuser or create_role):
            log.warning("the engine connects as %s, which owns the schema and so could switch the audit log's"
                        " append-only triggers off; set %s to a role without that power", user, ENGINE_URL_ENV)
            return owner_url
        prepare_engine_role(conn)
    password = os.environ.get(ENGINE_PASSWORD_ENV)
    log.info("the engine connects as %s (it cannot change or delete audit rows); migrations run as %s",
             ENGINE_ROLE, user)
    return make_url(owner_url).set(username=ENGINE_ROLE, password=password).render_as_string(hide_password=False)


def prepare_engine_role(conn: psycopg.Connection) -> None:
    """Create the engine role if it is missing and grant it this database's rows (idempotent); run by a
    role that may create roles."""
    role = sql.Identifier(ENGINE_ROLE)
    database = conn.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
    statements = [
        sql.SQL(_CREATE_ROLE).format(role=role),
        sql.SQL("ALTER ROLE {} NOSUPERUSER NOBYPASSRLS").format(role),
        sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(sql.Identifier(database), role),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(role),
        sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}").format(role),
        sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON {} FROM {}").format(
            sql.Identifier(AUDIT_TABLE), role),
    ]
    password = os.environ.get(ENGINE_PASSWORD_ENV)
    if password:
        statements.append(sql.SQL("ALTER ROLE {} PASSWORD {}").format(role, sql.Literal(password)))
    for statement in statements:
        for attempt in (1, 2, 3):  # another engine starting on the same server may be granting at once
            try:
                conn.execute(statement)
                break
            except psycopg.errors.InternalError_ as exc:  # "tuple concurrently updated"
                if attempt == 3:
                    raise
                log.info("granting the engine role again after: %s", exc)
