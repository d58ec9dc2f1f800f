"""What the benchmarks share: their own database, percentiles, process memory."""

from __future__ import annotations

import asyncio

import psutil
import psycopg
from sqlalchemy.engine import make_url

from crm_core.database import libpq_dsn, migrate, resolve_url, sync_engine
from crm_core.seed import seed

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
    asyncio.run(_bench_setup(url))
    return url


def ensure_seeded(url: str, accounts: int) -> int:
    """At least ``accounts`` generated accounts in the benchmark database (seeded once, reused later)."""
    migrate(url)
    with psycopg.connect(libpq_dsn(url)) as conn:
        row = conn.execute("SELECT count(*) FROM accounts").fetchone()
    have = int(row[0]) if row else 0
    if have < accounts:
        print(f"seeding {accounts - have:,} accounts into {BENCH_DATABASE} (once; reused by later runs)",
              flush=True)
        seed(url, accounts - have, progress=True)
        have = accounts
    return have
async def _bench_setup(url: str) -> None:
    """The benchmarks' web visitors post with the sandbox's API keys (channels/sandbox/web), and their
    users log in once an administrator exists."""
    import secrets

    from actors.demo.people import ensure_sandbox_keys
    from crm_core.database import async_engine
    from crm_core.users import create_user

    engine = async_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await ensure_sandbox_keys(conn)
            await create_user(conn, login="bench-admin", full_name="Адміністратор", role="admin",
                              password=secrets.token_urlsafe(16))
    finally:
        await engine.dispose()


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


class CpuMeter:
    """CPU time (user + system) spent by the processes of a run between :meth:`start` and :meth:`stop`:
    this process, its descendants (a local Ray cluster's workers) and PostgreSQL's, summed by label.
    A Ray worker is labelled by its process title (``ray::ChannelActor``); ``names`` (pid -> label)
    overrides that, say with the host process names."""

    def __init__(self, names: dict[int, str] | None = None) -> None:
        self.names = names or {}
        self._start: dict[int, tuple[str, float]] = {}

    def _sample(self) -> dict[int, tuple[str, float]]:
        me = psutil.Process()
        processes = [me, *me.children(recursive=True)]
        processes += [p for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("postgres")]
        sample = {}
        for process in processes:
            try:
                times = process.cpu_times()
                sample[process.pid] = (self._label(process, me.pid), times.user + times.system)
            except psutil.Error:
                continue
        return sample

    def _label(self, process: psutil.Process, me: int) -> str:
        if process.pid in self.names:
            return self.names[process.pid]
        if process.pid == me:
            return "this process"
        if (process.name() or "").startswith("postgres"):
            return "postgresql"
        title = (process.cmdline() or [process.name()])[0].strip()
        return title.split(".")[0] if title.startswith("ray::") else "other"

    def start(self) -> None:
        self._start = self._sample()

    def stop(self) -> dict[str, float]:
        """CPU seconds by label since :meth:`start`, the biggest first."""
        by_label: dict[str, float] = {}
        for pid, (label, seconds) in self._sample().items():
            by_label[label] = by_label.get(label, 0.0) + seconds - self._start.get(pid, (label, 0.0))[1]
        return dict(sorted(by_label.items(), key=lambda item: -item[1]))
