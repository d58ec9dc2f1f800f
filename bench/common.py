"""What the benchmarks share: their own database, percentiles, process memory."""

from __future__ import annotations

import psutil
import psycopg
from sqlalchemy.engine import make_url

from crm_core.database import libpq_dsn, migrate, resolve_url, sync_engine

BENCH_DATABASE = "switchboard_bench"


def bench_database_url(server_url: str | None = None, database: str = BENCH_DATABASE) -> str:
    """A database of its own on the resolved server (``DATABASE_URL`` or the embedded one), migrated;
    created the first time and reused afterwards, so benchmarks never touch the engine's data."""
    server_url = server_url or resolve_url()
    url = make_url(server_url).set(database=database).render_as_string(hide_password=False)
    admin = sync_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %(name)s",
                                          {"name": database}).first()
            if exists is None:
                conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    finally:
        admin.dispose()
    migrate(url)
    return url


def empty_contact_tables(url: str, *extra: str) -> None:
    """Empty the contact tables (and ``extra`` ones) of a benchmark's database: what an earlier run left
    would be re-delivered, fired, joined or linked as repeat contacts, and measured as load."""
    tables = ", ".join(("inbox", "conversations", "tickets", "ticket_events", "ticket_links", "messages", "reminders",
                        *extra))
    with psycopg.connect(libpq_dsn(url)) as conn:
        conn.execute(f"TRUNCATE {tables} CASCADE")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def unique_memory_mb(pids: list[int]) -> float:
    """Unique set size (memory freed if the process ended) of the given processes, in MB."""
    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_full_info().uss
        except psutil.Error:
            continue
    return total / 2**20
