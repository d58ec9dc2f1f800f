"""Many live screens against the gateway: 2,000 supervisor event streams opened at once (one supervisor's
session, as a wall of screens), how long until every one has its first event, ``/healthz`` latency while
they are open, and the gateway process's memory before, with them open and after they close; beside a
bare aiohttp SSE server in this process given the same streams in the same run (the baseline).

    python -m bench.bench_streams [--streams 2000] [--hold-s 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import aiohttp
import psutil
from aiohttp import web

from bench.common import bench_database_url, percentile

NAMESPACE = "switchboard-bench-streams"
LOGIN, PASSWORD = "bench-streams-supervisor", "bench-password"
OPEN_BAR_S, HEALTH_BAR_S, MEMORY_BAR_MB = 10.0, 0.1, 50.0
SETTLE_S = 15.0  # longer than the gateway's heartbeat (10 s) and its memory release after the last stream


async def open_streams(url: str, count: int, headers: dict[str, str]) -> tuple[float, int, list[aiohttp.ClientResponse],
                                                                                aiohttp.ClientSession]:
    """Open ``count`` streams at once; seconds until each has sent its first event, and how many did."""
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                    timeout=aiohttp.ClientTimeout(total=None, sock_connect=30))
    started = time.perf_counter()

    async def one() -> aiohttp.ClientResponse | None:
        try:
            response = await session.get(url, headers=headers)
            if response.status != 200:
                response.release()
                return None
            await asyncio.wait_for(response.content.readuntil(b"\n\n"), 60)  # retry:
            await asyncio.wait_for(response.content.readuntil(b"\n\n"), 60)  # the first event
            return response
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None

    opened = await asyncio.gather(*(one() for _ in range(count)))
    streams = [response for response in opened if response is not None]
    return time.perf_counter() - started, len(streams), streams, session


async def health_latencies(url: str, seconds: float) -> list[float]:
    latencies: list[float] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            async with session.get(url) as resp:
                await resp.read()
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.05)
    return latencies


async def close_streams(streams: list[aiohttp.ClientResponse], session: aiohttp.ClientSession) -> None:
    for response in streams:
        response.close()
    await session.close()


async def bare_sse_server() -> tuple[web.AppRunner, str]:
    """The baseline: aiohttp serving an SSE stream that sends one event then a heartbeat now and then."""
    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"retry: 1500\n\n")
        await response.write(b'event: snapshot\ndata: {"seq": 0}\n\n')
        try:
            while True:
                await asyncio.sleep(10)
                await response.write(b'event: heartbeat\ndata: {}\n\n')
        except (ConnectionResetError, asyncio.CancelledError):
            return response

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/stream", events)
    app.router.add_get("/healthz", health)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 1e6


async def measure(name: str, stream_url: str, health_url: str, headers: dict[str, str], pid: int, count: int,
                  hold_s: float) -> None:
    before = rss_mb(pid)
    took, opened, streams, session = await open_streams(stream_url, count, headers)
    health = await health_latencies(health_url, hold_s)
    during = rss_mb(pid)
    await close_streams(streams, session)
    await asyncio.sleep(SETTLE_S)  # a server hears of a closed stream at its next heartbeat write
    after = rss_mb(pid)
    print(f"{name:<10} {opened:>5}/{count} streams open in {took:5.1f} s; /healthz while open p50 "
          f"{percentile(health, 0.5) * 1000:5.0f} ms p99 {percentile(health, 0.99) * 1000:6.0f} ms; memory "
          f"{before:5.0f} MB -> {during:5.0f} MB open -> {after:5.0f} MB closed ({after - before:+.0f} MB)")


async def login(url: str) -> dict[str, str]:
    async with aiohttp.ClientSession() as session, session.post(
            f"{url}/api/v1/auth/login", json={"login": LOGIN, "password": PASSWORD}) as resp:
        return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def add_supervisor(url: str) -> None:
    from crm_core.database import async_engine
    from crm_core.users import authenticate, create_user

    engine = async_engine(url, pool_size=1)
    async with engine.begin() as conn:
        if await authenticate(conn, LOGIN, PASSWORD) is None:
            await create_user(conn, login=LOGIN, full_name="Bench Supervisor", role="supervisor", password=PASSWORD,
                              skills={}, queues={"names": []}, capacity={}, active=True)
    await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_streams")
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--hold-s", type=float, default=10.0)
    args = parser.parse_args(argv)

    import ray

    from actors.system import RayEngine

    url = bench_database_url()
    asyncio.run(add_supervisor(url))
    os.environ["SWITCHBOARD_HTTP_PORT"] = "0"
    ray.init(namespace=NAMESPACE, include_dashboard=False, logging_level="ERROR", log_to_driver=False,
             runtime_env={"env_vars": {"SWITCHBOARD_HTTP_PORT": "0"}})
    try:
        engine = RayEngine(database_url=url)
        engine.namespace = NAMESPACE
        base_url = engine.start(channels={})
        assert base_url is not None
        gateway_pid = ray.get(engine.gateway.getpid.remote())

        async def both() -> None:
            runner, bare_url = await bare_sse_server()
            try:
                await measure("bare", f"{bare_url}/stream", f"{bare_url}/healthz", {}, os.getpid(), args.streams,
                              args.hold_s)
            finally:
                await runner.cleanup()
            await measure("gateway", f"{base_url}/api/v1/supervisor/stream", f"{base_url}/healthz",
                          await login(base_url), gateway_pid, args.streams, args.hold_s)

        asyncio.run(both())
    finally:
        ray.shutdown()
    print(f"bars: every stream open within {OPEN_BAR_S:.0f} s, /healthz p99 <= {HEALTH_BAR_S * 1000:.0f} ms while "
          f"open, gateway memory back within {MEMORY_BAR_MB:.0f} MB of its start (the bare baseline's memory is "
          "this process's, client included)")


if __name__ == "__main__":
    main()
