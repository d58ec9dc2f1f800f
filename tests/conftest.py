"""Shared fixtures.

Unit tests (tests/unit) need neither PostgreSQL nor Ray.  Integration tests ask for ``db_url``: a fresh
database, migrated to the newest schema, on the server ``DATABASE_URL`` names (the machine's PostgreSQL
in CI) or, without it, on an embedded PostgreSQL kept under ``var/test-pg``.  Each test session gets its
own database, so several sessions may run side by side.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent


def _server_url() -> str:
    url = os.environ.get("SWITCHBOARD_TEST_SERVER_URL") or os.environ.get("DATABASE_URL")
    if url:
        return url
    from crm_core.database import _embedded_url

    return _embedded_url(ROOT / "var" / "test-pg", "postgres")


def _admin():
    from crm_core.database import sync_engine

    return sync_engine(_server_url(), isolation_level="AUTOCOMMIT")


def _create_database(name: str, template: str | None = None) -> str:
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    admin.dispose()
    return make_url(_server_url()).set(database=name).render_as_string(hide_password=False)


def _drop_database(name: str) -> None:
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_template() -> Iterator[str]:
    """A migrated database nobody connects to: fresh databases are copied from it in a blink."""
    from crm_core.database import migrate

    os.environ["SWITCHBOARD_TEST_SERVER_URL"] = _server_url()
    name = f"sbtmpl_{uuid.uuid4().hex[:12]}"
    migrate(_create_database(name))
    yield name
    _drop_database(name)


@pytest.fixture
def fresh_db_url(database_template: str) -> Iterator[str]:
    """An empty migrated database of this test's own (no data of other tests, no locks held by them)."""
    name = f"sbtest_{uuid.uuid4().hex[:12]}"
    yield _create_database(name, template=database_template)
    _drop_database(name)


@pytest.fixture(scope="session")
def db_url(database_template: str) -> Iterator[str]:
    """The session's shared migrated database; ``DATABASE_URL`` points at it during the session."""
    name = f"sbtest_{uuid.uuid4().hex[:12]}"
    url = _create_database(name, template=database_template)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    try:
        yield url
    finally:
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
        _drop_database(name)


@pytest.fixture(autouse=True)
def metrics_token(monkeypatch):
    """Every test's gateway serves /metrics to ``tests.support.engine.METRICS`` (it is closed without a token)."""
    from tests.support.engine import METRICS_TOKEN

    monkeypatch.setenv("SWITCHBOARD_METRICS_TOKEN", METRICS_TOKEN)
