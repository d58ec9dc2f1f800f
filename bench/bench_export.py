"""Streamed ticket exports: ``GET /api/v1/exports/tickets.csv`` and ``.xlsx`` over the bench month,
through the real gateway on 127.0.0.1, read by a real HTTP client; the server's resident memory is
sampled throughout.  Baseline: PostgreSQL's own ``COPY ... TO STDOUT`` of the same rows.

``python -m bench.bench_export [--tickets N]`` (default 200,000; the bar is 1,000,000 with memory growth
<= 100 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import timedelta
from types import SimpleNamespace

import psutil
import psycopg
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from actors.settings import Settings
from bench.bench_reports import DATABASE, seed
from bench.common import bench_database_url
from crm_core import users
from crm_core.database import async_engine, libpq_dsn
from dashboards.app import build_app


class QuietHub:
    """An event hub with nothing happening: the export needs none."""

    async def snapshot(self) -> dict:
        return {"seq": 0, "queue": [], "agent": [], "conversation": []}

    async def events_after(self, seq: int, timeout_s: float = 15.0) -> dict:
        await asyncio.sleep(timeout_s)
        return {"seq": seq, "events": [], "gap": False}


def copy_baseline(url: str) -> tuple[float, int]:
    started, size = time.perf_counter(), 0
    with psycopg.connect(libpq_dsn(url)) as conn, conn.cursor().copy(
            "COPY (SELECT * FROM tickets WHERE number LIKE 'B-%' ORDER BY id) TO STDOUT WITH CSV HEADER") as copy:
        for chunk in copy:
            size += len(chunk)
    return time.perf_counter() - started, size


async def export(url: str, path: str, token: str, server: TestServer) -> tuple[float, int, float]:
    process = psutil.Process(os.getpid())
    before = process.memory_info().rss
    peak = before
    done = False

    async def sample() -> None:
        nonlocal peak
        while not done:
            peak = max(peak, process.memory_info().rss)
            await asyncio.sleep(0.1)

    sampler = asyncio.create_task(sample())
    started, size = time.perf_counter(), 0
    async with ClientSession() as http:
        response = await http.get(server.make_url(path), headers={"Authorization": f"Bearer {token}"})
        assert response.status == 200, await response.text()
        async for chunk in response.content.iter_chunked(1 << 16):
            size += len(chunk)
    elapsed = time.perf_counter() - started
    done = True
    await sampler
    return elapsed, size, (peak - before) / 2**20


async def run(url: str) -> None:
    settings = Settings.load()
    db = async_engine(url, pool_size=4)
    services = SimpleNamespace(settings=settings, db=db, hub=QuietHub(), system=None, crm=None, inbox=None,
                               channels=None)
    async with db.begin() as conn:
        user_id = await users.create_user(conn, login="bench-analyst", full_name="Bench", role="analyst",
                                          password="bench-password")
        token, _ = await users.open_session(conn, user_id, timedelta(hours=1))
    server = TestServer(build_app(services), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        baseline, raw = await asyncio.to_thread(copy_baseline, url)
        print(f"baseline COPY TO STDOUT            {baseline:7.1f} s  {raw / 2**20:8.1f} MB")
        for name, path in (("CSV", "/api/v1/exports/tickets.csv"), ("XLSX", "/api/v1/exports/tickets.xlsx")):
            elapsed, size, grown = await export(url, path, token, server)
            print(f"{name:4s} export through the gateway     {elapsed:7.1f} s  {size / 2**20:8.1f} MB  "
                  f"({elapsed / baseline:4.1f} x baseline)  server memory grew {grown:6.1f} MB", flush=True)
    finally:
        await server.close()
        await db.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=200_000)
    args = parser.parse_args(argv)
    url = bench_database_url(database=DATABASE)
    seed(url, args.tickets)
    asyncio.run(run(url))


if __name__ == "__main__":
    main()
