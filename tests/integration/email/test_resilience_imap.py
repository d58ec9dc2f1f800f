"""Restarts of the channel and of the mailbox under traffic: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import logging

from channels.sandbox.mail import run_traffic


async def test_channel_restart_under_traffic_loses_and_doubles_nothing(dovecot, make_channel, inbox) -> None:
    traffic = asyncio.create_task(run_traffic(dovecot, rate_per_s=100, count=150))
    first = make_channel()
    await first.start(inbox)
    await inbox.wait_for(30)
    await first.stop()  # mid-traffic, possibly mid-batch
    stopped_at = len(inbox.items)
    await asyncio.sleep(0.3)
    second = make_channel()  # a new actor: same state file, fresh memory
    await second.start(inbox)
    try:
        sent = await traffic
        await inbox.wait_for(len(sent), timeout=30)
        await asyncio.sleep(0.3)
    finally:
        await second.stop()
    assert set(inbox.by_message_id()) == {m.message_id for m in sent}
    assert len(inbox.items) == len(sent)
    # Redelivery is confined to what was in flight when the first channel stopped (at most one batch).
    assert len(inbox.calls) - len(sent) <= 50
    assert stopped_at < len(sent)
    flags = await dovecot.fetch_flags()
    assert len(flags) == len(sent) and all("$Switchboard" in f for f in flags.values())


async def test_mailbox_dropping_the_connection_mid_idle_is_recovered(dovecot, make_channel, inbox, caplog) -> None:
    channel = make_channel(busy_linger_s=0)
    with caplog.at_level(logging.WARNING, logger="channels.email"):
        await channel.start(inbox)
        try:
            await run_traffic(dovecot, rate_per_s=100, count=1)
            await inbox.wait_for(1)
            await asyncio.sleep(0.2)  # back in IDLE
            await dovecot.restart()  # every connection drops; same port, same mail
            sent = await run_traffic(dovecot, rate_per_s=100, count=3)
            await inbox.wait_for(4)
        finally:
            await channel.stop()
    assert {m.message_id for m in sent} <= set(inbox.by_message_id())
    assert any("unavailable" in r.getMessage() and "reconnecting" in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]
    assert len(inbox.calls) == 4


async def test_channel_starts_while_the_mailbox_is_down_and_catches_up(dovecot, make_channel, inbox) -> None:
    await dovecot.stop()
    channel = make_channel(command_timeout_s=1)
    await channel.start(inbox)  # returns although the mailbox is down
    try:
        await dovecot.start()
        sent = await run_traffic(dovecot, rate_per_s=100, count=2)
        await inbox.wait_for(2)
    finally:
        await channel.stop()
    assert {m.message_id for m in sent} == set(inbox.by_message_id())
