"""Slow and greedy clients over raw sockets against the gateway's own runner (issue 14, open nothing by
default: connections that drip headers were never timed out): a request head that does not arrive within
``header_read_s`` is answered 408 and closed, and an address over its connection limit is answered 503
and closed while other addresses are served."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest
from aiohttp import web

from dashboards.app import build_app
from dashboards.client_guard import GuardedRunner
from dashboards.settings import DashboardSettings, Limits
from tests.support.teardown import bounded

pytestmark = pytest.mark.integration
HEADERS_S = 1.0
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: switchboard\r\nConnection: close\r\n\r\n"


async def serve(engine, limits: Limits):
    settings = DashboardSettings.load(engine.settings.config_dir)
    app = build_app(engine, dataclasses.replace(settings, limits=limits))
    runner = GuardedRunner(app, limits)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, runner.addresses[0][1]


@pytest.fixture
async def gateway(engine):
    runners = []

    async def start(**limits):
        runner, port = await serve(engine, Limits(**limits))
        runners.append(runner)
        return port

    yield start
    for runner in runners:
        await bounded(runner.cleanup(), "runner cleanup")


async def connect(port: int, source: str = "127.0.0.1"):
    return await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))


async def answer(reader: asyncio.StreamReader, within_s: float = 10.0) -> bytes:
    """Everything the server sends until it closes the connection."""
    return await asyncio.wait_for(reader.read(), within_s)


async def test_a_client_that_drips_its_headers_is_answered_408_and_closed(gateway):
    port = await gateway(header_read_s=HEADERS_S, connections_per_address=0)
    reader, writer = await connect(port)
    started = time.monotonic()

    async def drip() -> None:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: switchboard\r\n")
        for _ in range(40):  # a header name a byte at a time, never ending
            await asyncio.sleep(0.1)
            if writer.is_closing():
                return
            writer.write(b"x")

    dripping = asyncio.create_task(drip())
    served_meanwhile = await served(port)
    refused = await answer(reader)
    took = time.monotonic() - started
    dripping.cancel()
    writer.close()
    assert refused.startswith(b"HTTP/1.1 408"), refused
    assert HEADERS_S <= took < HEADERS_S + 2, took
    assert served_meanwhile


async def test_a_client_whose_headers_arrive_in_time_is_served_on_a_kept_connection(gateway):
    port = await gateway(header_read_s=HEADERS_S, connections_per_address=0)
    reader, writer = await connect(port)
    for _ in range(3):  # each request of a kept-alive connection gets its own time for its head
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: switchboard\r\n")
        await asyncio.sleep(HEADERS_S / 2)
        writer.write(b"\r\n")
        status = await asyncio.wait_for(reader.readline(), 5)
        assert status.startswith(b"HTTP/1.1 200"), status
        length = 0
        while (line := await reader.readline()) != b"\r\n":
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        await asyncio.sleep(HEADERS_S * 0.8)
    writer.close()


async def test_an_address_over_its_connection_limit_is_refused_while_others_are_served(gateway):
    port = await gateway(header_read_s=30.0, connections_per_address=3)
    held = [await connect(port) for _ in range(3)]
    await asyncio.sleep(0.1)
    reader, writer = await connect(port)
    refused = await answer(reader)
    writer.close()
    assert refused.startswith(b"HTTP/1.1 503"), refused
    assert b"Retry-After" in refused
    assert await served(port, source="127.0.0.2"), "another address must be served"

    held_reader, held_writer = held.pop()
    held_writer.close()
    await held_writer.wait_closed()
    await asyncio.sleep(0.1)
    assert await served(port), "a freed place serves the address again"
    for _, other in held:
        other.close()


async def served(port: int, source: str = "127.0.0.1") -> bool:
    reader, writer = await connect(port, source)
    writer.write(HEALTHZ)
    reply = await answer(reader)
    writer.close()
    return reply.startswith(b"HTTP/1.1 200")
