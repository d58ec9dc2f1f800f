"""The client card fed by billing, each figure beside a baseline measured in the same run:

- bulk load of ``--load`` accounts from the sandbox billing (HTTP pages, COPY, update) beside a COPY of the
  same rows into a table of their own (bar: 13 M in <= 15 min);
- the card with billing detail through the HTTP API (cached billing data; the sandbox answers in 50 ms and
  is never waited for) beside the raw SQL card (bar: p99 <= 300 ms);
- the duplicate check of a card being saved (phone, e-mail, EIC, name with address) beside one indexed
  phone look-up (bar: p99 <= 100 ms at 13 M);
- meter readings posted through the API at ``--rate``/s beside bare INSERTs of the same rows, then
  written back to billing and counted there (bar: 1,000/s, p99 <= 200 ms, each written back once).

The screen pop never calls billing (the card it carries is the stored one), so billing slow or down leaves
it as ``bench_screen_pop`` measures it.

    python -m bench.bench_client360 [--accounts 200000] [--load 100000] [--samples 1000] [--rate 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import psycopg
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from actors.system import LocalEngine
from bench.common import BENCH_DATABASE, bench_database_url, ensure_seeded, percentile
from crm_core import driver_sql, duplicates, users
from crm_core.billing import sync
from crm_core.billing.client import BillingClient, BillingSettings
from crm_core.billing.sandbox import BillingBook, build_app
from crm_core.card import client_card
from crm_core.database import async_engine, libpq_dsn
from dashboards.app import build_app as build_gateway

PASSWORD = "bench client 360 password"


def _ms(values: list[float]) -> str:
    return f"p50 {percentile(values, 0.5):7.1f} ms  p99 {percentile(values, 0.99):7.1f} ms  (n={len(values)})"


async def _timed(call: Callable[[int], Awaitable[object]], items: list[int], concurrency: int) -> list[float]:
    queue = list(items)
    latencies: list[float] = []

    async def worker() -> None:
        while queue:
            item = queue.pop()
            started = time.perf_counter()
            await call(item)
            latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def _sample(url: str, samples: int, seed: int) -> list[tuple[int, str]]:
    """Random clients with an account: (client id, account number)."""
    with psycopg.connect(libpq_dsn(url)) as conn:
        top = int(conn.execute("SELECT max(id) FROM clients").fetchone()[0])  # type: ignore[index]
        ids = random.Random(seed).sample(range(1, top + 1), min(top, samples * 2))
        return [(r[0], r[1]) for r in conn.execute(
            "SELECT r.client_id, min(a.account_no) FROM account_roles r JOIN accounts a ON a.id = r.account_id"
            " WHERE r.client_id = ANY(%s) GROUP BY r.client_id", (ids,)).fetchall()][:samples]


def _copy_baseline(url: str, book: BillingBook, accounts: int) -> float:
    rows = [book.account(i, detail=False) for i in range(1, accounts + 1)]
    started = time.perf_counter()
    with psycopg.connect(libpq_dsn(url)) as conn:
        conn.execute("CREATE TEMP TABLE copied (account_no text, eic_code text, balance numeric, as_of timestamptz,"
                     " tariff text)")
        with conn.cursor().copy("COPY copied FROM STDIN") as copy:
            for r in rows:
                copy.write_row((r["account_no"], r["eic_code"], r["balance"], r["as_of"], r["tariff"]))
    return time.perf_counter() - started


async def _bulk(url: str, db: AsyncEngine, accounts: int) -> None:
    book = BillingBook(accounts=accounts)
    server = web.AppRunner(build_app(book))
    await server.setup()
    site = web.TCPSite(server, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    client = BillingClient(BillingSettings(url=f"http://127.0.0.1:{port}", timeout=30))
    started = time.perf_counter()
    report = await sync.bulk_load(client, db)
    seconds = time.perf_counter() - started
    await client.close()
    await server.cleanup()
    copy = await asyncio.to_thread(_copy_baseline, url, book, accounts)
    print(f"bulk load from billing : {report.accounts:,} accounts in {seconds:6.1f} s "
          f"({report.accounts / seconds:,.0f}/s; 13 M would take {13e6 / (report.accounts / seconds) / 60:.1f} min,"
          f" bar 15)")
    print(f"  baseline COPY        : {accounts:,} rows in {copy:6.1f} s ({accounts / copy:,.0f}/s)")


async def run(args: argparse.Namespace) -> None:
    url = bench_database_url()
    have = ensure_seeded(url, args.accounts)
    print(f"database {BENCH_DATABASE}: {have:,} accounts", flush=True)
    db = async_engine(url)
    await _bulk(url, db, min(args.load, have))

    book = BillingBook(accounts=have)
    runner = web.AppRunner(build_app(book))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    billing_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    os.environ["SWITCHBOARD_BILLING_URL"] = billing_url
    sample = _sample(url, args.samples, 1)
    readings_sample = _sample(url, args.rate * args.seconds, 2)
    billing = BillingClient(BillingSettings(url=billing_url, timeout=30))
    await sync.refresh_client(billing, db, [no for _, no in sample + readings_sample])
    book.latency = 0.05

    local = LocalEngine(url)
    services = await local.start()
    async with services.db.begin() as conn:
        login = f"bench360-{uuid.uuid4().hex[:6]}"
        await users.create_user(conn, login=login, full_name="Бенчмарк", role="sc_operator", password=PASSWORD)
    http = TestClient(TestServer(build_gateway(services), host="127.0.0.1", port=0))
    await http.start_server()
    token = (await (await http.post("/api/v1/auth/login", json={"login": login, "password": PASSWORD})).json())["token"]
    headers = {"Authorization": f"Bearer {token}"}
    clients = [c for c, _ in sample]

    async def card(client_id: int) -> None:
        response = await http.get(f"/api/v1/clients/{client_id}", headers=headers)
        assert response.status == 200, await response.text()
        await response.read()

    raw = await _timed(lambda c: client_card(services.autocommit, c), clients, 8)
    api = await _timed(card, clients, 8)
    print(f"card through the API   : {_ms(api)}   bar p99 <= 300 ms")
    print(f"  baseline raw SQL card: {_ms(raw)}")

    async with db.connect() as conn:
        probes = [await duplicates.probe_of(conn, c) for c in clients[:200]]

    async def check(index: int) -> None:
        async with db.connect() as conn:
            await duplicates.candidates(conn, probes[index])

    phones = [next((v for k, v in p.contacts if k == "phone"), "+380670000000") for p in probes]

    async def phone(index: int) -> None:
        await driver_sql.fetch_all(services.autocommit, "SELECT client_id FROM contact_points WHERE kind = 'phone'"
                                   " AND value = %s", (phones[index],))

    dup = await _timed(check, list(range(len(probes))), 4)
    base = await _timed(phone, list(range(len(probes))), 4)
    print(f"duplicate check        : {_ms(dup)}   bar p99 <= 100 ms")
    print(f"  baseline phone lookup: {_ms(base)}")

    await _readings(http, headers, book, billing, services, readings_sample, args)
    await http.close()
    await local.stop()
    await billing.close()
    await runner.cleanup()
    await db.dispose()


async def _readings(http: TestClient, headers: dict[str, str], book: BillingBook, billing: BillingClient,
                    services: Any, sample: list[tuple[int, str]], args: argparse.Namespace) -> None:
    today = date.today().isoformat()
    bodies = []
    for _, account_no in sample:
        account_id = book.find(account_no)
        if account_id is None:
            continue
        last = book.account(account_id, detail=True)["meters"][0]["readings"][0]["value"]
        bodies.append({"account_no": account_no, "meter_serial": f"G{account_id:09d}", "value": last + 7,
                       "taken_on": today, "source": "app", "idempotency_key": uuid.uuid4().hex})
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def post(body: dict) -> None:
        started = time.perf_counter()
        response = await http.post("/api/v1/readings", headers=headers, json=body)
        await response.read()
        latencies.append((time.perf_counter() - started) * 1000)
        statuses[response.status] = statuses.get(response.status, 0) + 1

    started = time.perf_counter()
    tasks = []
    for index, body in enumerate(bodies):
        delay = started + index / args.rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(post(body)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    print(f"meter readings via API : {_ms(latencies)} at {len(bodies) / elapsed:,.0f}/s offered {args.rate}/s;"
          f" answers {statuses}   bar 1,000/s, p99 <= 200 ms")
    book.latency = 0.0
    written_started = time.perf_counter()
    sent = await sync.write_back_readings(billing, services.db)
    written = time.perf_counter() - written_started
    print(f"  written back         : {sent:,} in {written:.1f} s; billing holds {len(book.readings):,}"
          f" (expected {statuses.get(201, 0):,}, each once)")

    async def insert(index: int) -> None:
        body = bodies[index]
        await driver_sql.execute(services.autocommit, (
            "INSERT INTO meter_readings (idempotency_key, account_id, meter_serial, value, taken_on, source,"
            " status, created_by) SELECT %s, id, %s, %s, %s, %s, 'accepted', 'bench' FROM accounts"
            " WHERE account_no = %s"), (body["idempotency_key"] + "-raw", body["meter_serial"], body["value"],
                                         body["taken_on"], body["source"], body["account_no"]))

    raw = await _timed(insert, list(range(len(bodies))), 8)
    print(f"  baseline bare INSERT : {_ms(raw)}")
    await driver_sql.execute(services.autocommit, "DELETE FROM meter_readings WHERE created_by = 'bench'")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--load", type=int, default=100_000, help="accounts in the bulk load")
    parser.add_argument("--samples", type=int, default=1_000)
    parser.add_argument("--rate", type=int, default=1_000, help="meter readings a second")
    parser.add_argument("--seconds", type=int, default=3, help="seconds of meter readings")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
