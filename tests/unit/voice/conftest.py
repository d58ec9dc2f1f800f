"""A sandbox PBX and a voice channel connected to it, over real loopback sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from channels.base import Inbound
from channels.sandbox.pbx import AmiServer
from channels.voice import VoiceChannel, build


class RecordingSink:
    """Stores what the channel delivers; can refuse the first ``fail_first`` deliveries."""

    def __init__(self) -> None:
        self.items: list[Inbound] = []
        self.fail_first = 0
        self.refusals = 0
        self._changed = asyncio.Event()

    async def __call__(self, item: Inbound) -> None:
        if self.refusals < self.fail_first:
            self.refusals += 1
            raise RuntimeError("database unavailable")
        self.items.append(item)
        self._changed.set()

    def events(self, linkedid: str | None = None) -> list[str]:
        return [i.metadata["call_event"] for i in self.items if linkedid is None or i.metadata["linkedid"] == linkedid]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async def loop() -> None:
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(loop(), timeout)


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll a condition that no sink delivery signals (connection state, counters)."""
    async def loop() -> None:
        while not predicate():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(loop(), timeout)


@pytest.fixture
async def pbx() -> AsyncIterator[AmiServer]:
    server = AmiServer(time_scale=0)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


VoiceFactory = Callable[..., Awaitable[VoiceChannel]]


@pytest.fixture
async def voice(pbx: AmiServer, sink: RecordingSink) -> AsyncIterator[VoiceFactory]:
    started: list[VoiceChannel] = []

    async def make(**settings: object) -> VoiceChannel:
        table = {
            "port": pbx.port, "secret": "sandbox", "reconnect_initial_seconds": 0.02, "reconnect_max_seconds": 0.1,
            "action_timeout_seconds": 3.0, "delivery_retry_initial_seconds": 0.01, "delivery_retry_max_seconds": 0.05,
            "recording_url_template": "https://vicidial.example/RECORDINGS/MP3/{stem}.mp3", **settings,
        }
        channel = build(table)
        started.append(channel)
        await channel.start(sink)
        return channel

    yield make
    for channel in started:
        await channel.stop()


async def settle(pbx: AmiServer, channel: VoiceChannel) -> None:
    """Let what the PBX has sent so far reach the sink."""
    await pbx.flush()
    await channel.ping()
    await channel.drain()
