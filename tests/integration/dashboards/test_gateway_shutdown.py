"""A gateway with live screens open stops at once: its event streams end when it shuts down, so neither
an engine stop nor a test's teardown waits out aiohttp's 60 s grace for handlers still running."""

from __future__ import annotations

import asyncio

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from dashboards.app import build_app

STREAMS = 5
WELL_BEFORE_GRACE_S = 30.0  # aiohttp waits up to 60 s for running handlers


async def test_open_supervisor_streams_end_when_the_gateway_shuts_down(engine, login_as, web):
    supervisor = await login_as("supervisor")
    server = TestServer(build_app(engine), host="127.0.0.1", port=0)
    await server.start_server()
    async with ClientSession() as client:
        streams = [await client.get(server.make_url("/api/v1/supervisor/stream"), headers=supervisor.headers)
                   for _ in range(STREAMS)]
        for response in streams:
            assert response.status == 200
            assert (await response.content.readuntil(b"\n\n")).startswith(b"retry:")
        closing = asyncio.ensure_future(server.close())
        done, _ = await asyncio.wait([closing], timeout=WELL_BEFORE_GRACE_S)
        assert done, "the gateway still waits on its open event streams"
        for response in streams:
            await asyncio.wait_for(response.read(), 5)  # each stream was ended by the server
            response.release()
