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


@pytest.fixture(scope="session")
def db_url() -> Iterator[str]:
    from crm_core.database import migrate, sync_engine

    server = _server_url()
    os.environ["SWITCHBOARD_TEST_SERVER_URL"] = server
    name = f"sbtest_{uuid.uuid4().hex[:12]}"
    admin = sync_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    migrate(url)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    try:
        yield url
    finally:
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
