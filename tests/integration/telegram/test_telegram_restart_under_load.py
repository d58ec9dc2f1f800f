"""Restarting the Telegram channel while users keep writing loses nothing; repeats share a dedupe_key."""

from __future__ import annotations

import asyncio

from channels.base import Inbound
from channels.sandbox.telegram import TelegramSandbox, demo_users
from channels.telegram import build

TOKEN = "7000000001:SANDBOX-token"


async def test_restarts_during_traffic_lose_nothing_and_duplicates_are_recognisable():
    sandbox = TelegramSandbox(TOKEN)
    await sandbox.start()
    stored: dict[str, Inbound] = {}
    deliveries = 0

    async def inbox(inbound: Inbound) -> None:
        nonlocal deliveries
        deliveries += 1
        await asyncio.sleep(0.002)
        stored.setdefault(inbound.dedupe_key, inbound)

    settings = {"token": TOKEN, "api_url": sandbox.url, "poll_timeout_s": 1, "poll_limit": 20}
    channel = build(settings)
    await channel.start(inbox)
    traffic = asyncio.create_task(sandbox.run_traffic(200, 1.5, users=demo_users(15)))
    try:
        for _ in range(3):
            await asyncio.sleep(0.4)
            await channel.stop()
            channel = build(settings)
            await channel.start(inbox)
        sent = await traffic
        while sandbox.pending_updates:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
    finally:
        await channel.stop()
        await sandbox.stop()
    assert len(stored) == sent, f"{sent - len(stored)} messages lost"
    assert deliveries >= sent
    per_chat: dict[str, list[int]] = {}
    for item in stored.values():
        per_chat.setdefault(item.thread_key, []).append(int(item.metadata["external_id"]))
    assert len(per_chat) == 15
