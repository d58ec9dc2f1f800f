"""Identify-by-phone latency through the CRM pool (Ray) beside the raw SQL time, at 1 M accounts.

Uses the database ``switchboard_bench`` on the server crm_core.database resolves (``DATABASE_URL`` or
the embedded PostgreSQL), seeds it up to ``--accounts`` accounts the first time (reused afterwards),
picks a few thousand random known phones, and times the same identify statement three ways in the
same run: raw psycopg (prepared statement, the baseline), ``identify()`` in-process (its statement
compiled once, sent through the driver), and ``CrmPool.identify`` through the Ray workers, one call at
a time and with concurrent callers; a Ray call that does no database work is timed beside them as
the transport's own baseline.
Bar: p99 <= 10 ms through the pool at 1 M accounts.

    python -m bench.bench_identify [--accounts 1000000] [--samples 3000] [--workers 2] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import psycopg
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

from bench.common import BENCH_DATABASE, bench_database_url, ensure_seeded
from crm_core.database import async_engine, libpq_dsn
from crm_core.identify import BY_CONTACT_POINT, identify

POOL_P99_BAR_MS = 10.0
WARM_UP = 200


def _sample_phones(url: str, samples: int) -> list[str]:
    with psycopg.connect(libpq_dsn(url)) as conn:
        row = conn.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'contact_points'").fetchone()
        total = max(int(row[0]) if row else 0, 1)
        percent = min(100.0, samples * 400.0 / total)
        phones = [r[0] for r in conn.execute(
            f"SELECT value FROM contact_points TABLESAMPLE BERNOULLI ({percent}) REPEATABLE (7)"
            " WHERE kind = 'phone' LIMIT %s", (samples * 4,))]
    step = max(len(phones) // samples, 1)
    return phones[::step][:samples]


def _percentiles(latencies_ms: list[float]) -> tuple[float, float, float]:
    ordered = sorted(latencies_ms)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return p50, p99, statistics.fmean(ordered)


def _raw_sql(url: str, phones: list[str]) -> list[float]:
    compiled = BY_CONTACT_POINT.compile(dialect=PGDialect_psycopg())
    sql = str(compiled)
    latencies = []
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn, conn.cursor() as cur:
        for index, phone in enumerate([*phones[:WARM_UP], *phones]):
            params = {**compiled.params, "kind": "phone", "value": phone}
            started = time.perf_counter()
            cur.execute(sql, params, prepare=True)
            found = cur.fetchone()
            elapsed = (time.perf_counter() - started) * 1000
            if found is None:
                raise RuntimeError(f"known phone {phone} was not identified")
            if index >= WARM_UP:
                latencies.append(elapsed)
    return latencies


async def _timed(call: Callable[[str], Awaitable[object]], phones: list[str], concurrency: int) -> list[float]:
    for phone in phones[:WARM_UP]:
        await call(phone)
    latencies: list[float] = []
    queue = list(reversed(phones))

    async def caller() -> None:
        while queue:
            phone = queue.pop()
            started = time.perf_counter()
            found = await call(phone)
            latencies.append((time.perf_counter() - started) * 1000)
            if found is None:
                raise RuntimeError(f"known phone {phone} was not identified")

    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return latencies


async def _in_process(url: str, phones: list[str]) -> list[float]:
    engine = async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            return await _timed(lambda phone: identify(conn, "phone", phone), phones, 1)
    finally:
        await engine.dispose()


async def _through_pool(url: str, phones: list[str], workers: int,
                        concurrency: int) -> tuple[list[float], list[float], list[float], float]:
    import ray

    from crm_core.pool import CrmPool

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             namespace=f"bench-identify-{uuid.uuid4().hex[:6]}")
    pool = CrmPool.start(workers, url, connections=max(2, concurrency // workers + 1))
    try:
        await pool.wait_ready()
        worker = pool.workers[0]
        ray_only = await _timed(lambda _: worker.stats.remote(), phones, 1)
        sequential = await _timed(lambda phone: pool.identify("phone", phone), phones, 1)
        started = time.perf_counter()
        concurrent = await _timed(lambda phone: pool.identify("phone", phone), phones, concurrency)
        throughput = len(phones) / (time.perf_counter() - started)
        return ray_only, sequential, concurrent, throughput
    finally:
        pool.shutdown()
        ray.shutdown()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_identify", description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)

    url = bench_database_url()
    accounts = ensure_seeded(url, args.accounts)
    phones = _sample_phones(url, args.samples)
    print(f"database {BENCH_DATABASE}: {accounts:,} accounts; {len(phones)} random known phones", flush=True)

    rows = [("raw SQL, psycopg prepared (baseline)", _raw_sql(url, phones)),
            ("identify() in-process", asyncio.run(_in_process(url, phones)))]
    ray_only, sequential, concurrent, throughput = asyncio.run(
        _through_pool(url, phones, args.workers, args.concurrency))
    rows += [("Ray actor call, no database (baseline)", ray_only),
             (f"CrmPool.identify via Ray, {args.workers} workers, 1 caller", sequential),
             (f"CrmPool.identify via Ray, {args.workers} workers, {args.concurrency} callers", concurrent)]

    print(f"\n{'identify by phone':<58}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}")
    for name, latencies in rows:
        p50, p99, mean = _percentiles(latencies)
        print(f"{name:<58}{p50:>9.2f}{p99:>9.2f}{mean:>9.2f}")
    print(f"pool throughput with {args.concurrency} callers: {throughput:,.0f} identifications/s")
    pool_p99 = _percentiles(sequential)[1]
    verdict = "meets" if pool_p99 <= POOL_P99_BAR_MS else "MISSES"
    print(f"pool p99 {pool_p99:.2f} ms {verdict} the bar of {POOL_P99_BAR_MS:.0f} ms")


if __name__ == "__main__":
    main()
