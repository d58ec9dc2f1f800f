"""Inbound -> ticket committed, through the HTTP API channel, while new contacts arrive at a steady rate;
then the sustained ceiling, beside the raw PostgreSQL single-row insert ceiling of the same run.

The load is open-loop: contact ``i`` is sent at ``start + i / rate`` whatever happened to the ones
before, so a slow engine shows up as latency, not as a lower rate.  Latency of one contact = the
instant its ticket row was written minus the instant it was sent (same clock, same machine); the
ticket is then fetched through the API to check it is visible there.

    python -m bench.bench_ingest [--rate 200] [--seconds 60] [--ceiling-steps 300,400,500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from datetime import datetime

import aiohttp
import psycopg

from bench.common import bench_database_url, empty_contact_tables, percentile
from crm_core.database import libpq_dsn

NAMESPACE = "switchboard-bench"
SOURCE, KEY = "mobile_app", "sandbox-app-key"
P99_BAR_S = 1.0


def raw_insert_ceiling(url: str, seconds: float = 5.0) -> float:
    """Single-row INSERT + COMMIT on one connection, as fast as it goes: rows per second."""
    with psycopg.connect(libpq_dsn(url)) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_raw_insert (id bigserial primary key, body jsonb,"
                     " at timestamptz default now())")
        conn.commit()
        rows, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            conn.execute("INSERT INTO bench_raw_insert (body) VALUES (%s)", ('{"text": "Звернення"}',))
            conn.commit()
            rows += 1
        conn.execute("DROP TABLE bench_raw_insert")
        conn.commit()
    return rows / (time.perf_counter() - started)


async def offer_load(base_url: str, run: str, rate: float, seconds: float) -> dict[str, float]:
    """Send ``rate`` contacts/s for ``seconds``; returns thread -> send instant (epoch seconds)."""
    sent: dict[str, float] = {}
    failures = 0
    count = int(rate * seconds)
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.time() + 0.5

        async def one(i: int) -> None:
            nonlocal failures
            await asyncio.sleep(max(0.0, start + i / rate - time.time()))
            thread = f"{run}-{i}"
            body = {"thread": thread, "dedupe_key": thread, "from": {"kind": "app", "value": f"device-{i}"},
                    "text": "Прошу перевірити нарахування за жовтень"}
            sent_at = time.time()
            try:
                async with session.post(f"{base_url}/api/v1/inbound/{SOURCE}", json=body,
                                        headers={"X-Api-Key": KEY}) as resp:
                    if resp.status in (200, 202):
                        sent[thread] = sent_at
                    else:
                        failures += 1
            except aiohttp.ClientError:
                failures += 1

        await asyncio.gather(*(one(i) for i in range(count)))
    if failures:
        print(f"  {failures} contacts refused or failed at {rate}/s")
    return sent


def ticket_latencies(url: str, run: str, sent: dict[str, float], wait_s: float = 30.0) -> list[float]:
    deadline = time.time() + wait_s
    with psycopg.connect(libpq_dsn(url)) as conn:
        while True:
            rows = conn.execute(
                "SELECT c.thread_key, t.created_at FROM tickets t JOIN conversations c ON c.id = t.conversation_id"
                " WHERE c.thread_key LIKE %s", (f"app:{SOURCE}:{run}-%",)).fetchall()
            if len(rows) >= len(sent) or time.time() > deadline:
                break
            time.sleep(0.5)
    made: dict[str, datetime] = {key.rsplit(":", 1)[1]: at for key, at in rows}
    latencies = [made[t].timestamp() - s for t, s in sent.items() if t in made]
    missing = len(sent) - len(latencies)
    if missing:
        print(f"  {missing} accepted contacts have no ticket after {wait_s:.0f} s")
    return latencies


async def check_visible_in_api(base_url: str, url: str, run: str) -> bool:
    with psycopg.connect(libpq_dsn(url)) as conn:
        number = conn.execute(
            "SELECT t.number FROM tickets t JOIN conversations c ON c.id = t.conversation_id"
            " WHERE c.thread_key LIKE %s LIMIT 1", (f"app:{SOURCE}:{run}-%",)).fetchone()
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base_url}/api/v1/auth/login",
                                json={"login": "bench-supervisor", "password": "bench-password"}) as resp:
            token = (await resp.json())["token"]
        async with session.get(f"{base_url}/api/v1/tickets/{number[0]}",
                               headers={"Authorization": f"Bearer {token}"}) as resp:
            return resp.status == 200


async def add_supervisor(url: str) -> None:
    from crm_core.database import async_engine
    from crm_core.users import create_user

    engine = async_engine(url, pool_size=1)
    async with engine.begin() as conn:
        await create_user(conn, login="bench-supervisor", full_name="Bench Supervisor", role="supervisor",
                          password="bench-password", skills={}, queues={"names": []}, capacity={}, active=True)
    await engine.dispose()


def measure(base_url: str, url: str, rate: float, seconds: float) -> tuple[str, float, float, int]:
    run = uuid.uuid4().hex[:8]
    sent = asyncio.run(offer_load(base_url, run, rate, seconds))
    latencies = ticket_latencies(url, run, sent)
    return run, percentile(latencies, 0.5), percentile(latencies, 0.99), len(latencies)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_ingest")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--ceiling-steps", default="300,400,500,650,800")
    parser.add_argument("--ceiling-seconds", type=float, default=15.0)
    args = parser.parse_args(argv)

    import ray

    from actors.system import RayEngine

    url = bench_database_url()
    empty_contact_tables(url, "agent_states")
    raw = raw_insert_ceiling(url)
    asyncio.run(add_supervisor(url))
    os.environ["SWITCHBOARD_HTTP_PORT"] = "0"  # any free port for the gateway, picked once by the engine
    ray.init(namespace=NAMESPACE, include_dashboard=False, logging_level="ERROR",
             runtime_env={"env_vars": {"SWITCHBOARD_HTTP_PORT": "0"}})
    try:
        engine = RayEngine(database_url=url)
        engine.namespace = NAMESPACE
        base_url = engine.start(channels={})
        assert base_url is not None
        run, p50, p99, n = measure(base_url, url, args.rate, args.seconds)
        visible = asyncio.run(check_visible_in_api(base_url, url, run))
        verdict = "meets" if p99 <= P99_BAR_S else "MISSES"
        print(f"inbound -> ticket at {args.rate:.0f}/s for {args.seconds:.0f} s: {n:,} tickets, "
              f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms ({verdict} the 1 s bar); "
              f"visible through the API: {visible}")
        ceiling = args.rate if p99 <= P99_BAR_S else 0.0
        for step in (float(s) for s in args.ceiling_steps.split(",")):
            _, s50, s99, sn = measure(base_url, url, step, args.ceiling_seconds)
            print(f"  {step:.0f}/s for {args.ceiling_seconds:.0f} s: {sn:,} tickets, p50 {s50 * 1000:.0f} ms,"
                  f" p99 {s99 * 1000:.0f} ms")
            if s99 > P99_BAR_S or sn < step * args.ceiling_seconds * 0.99:
                break
            ceiling = step
    finally:
        ray.shutdown()
    print(f"sustained ceiling with p99 <= 1 s: {ceiling:.0f} contacts/s  |  baseline, raw PostgreSQL single-row "
          f"insert+commit on one connection: {raw:,.0f} rows/s")


if __name__ == "__main__":
    main()
