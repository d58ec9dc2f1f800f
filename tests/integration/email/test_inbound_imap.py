"""Inbound over a real Dovecot: every message once, flagged only after the engine stored it."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from channels.sandbox.mail import MailFactory, run_traffic

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "email"


async def test_traffic_is_delivered_once_and_flagged(dovecot, make_channel, inbox) -> None:
    channel = make_channel()
    await channel.start(inbox)
    try:
        sent = await run_traffic(dovecot, rate_per_s=200, count=60)
        await inbox.wait_for(len(sent))
        await _flagged(dovecot, len(sent))
    finally:
        await channel.stop()
    got = inbox.by_message_id()
    assert set(got) == {m.message_id for m in sent}
    assert len(inbox.calls) == len(sent)
    for mail in sent:
        inbound = got[mail.message_id]
        assert inbound.thread_key == f"email:{mail.thread_root}"
        assert inbound.kind == ("control" if mail.kind == "auto_reply" else "message")
    flags = await dovecot.fetch_flags()
    assert all("$Switchboard" in f and "\\Seen" not in f for f in flags.values())


async def test_polling_without_idle_delivers_too(dovecot, make_channel, inbox) -> None:
    channel = make_channel(idle=False, poll_interval_s=0.2)
    await channel.start(inbox)
    try:
        sent = await run_traffic(dovecot, rate_per_s=100, count=5)
        await inbox.wait_for(5)
    finally:
        await channel.stop()
    assert {m.message_id for m in sent} == set(inbox.by_message_id())


async def test_message_is_not_flagged_until_the_engine_stores_it(dovecot, make_channel, inbox, caplog) -> None:
    inbox.fail_next = 2
    channel = make_channel()
    with caplog.at_level(logging.WARNING, logger="channels.email"):
        await channel.start(inbox)
        try:
            uid = await dovecot.append("INBOX", MailFactory(seed=5).next().raw)
            await inbox.wait_for(1)
            await _flagged(dovecot, 1)
        finally:
            await channel.stop()
    assert inbox.fail_next == 0
    assert any("engine did not store" in r.getMessage() and "database unavailable" in r.getMessage()
               for r in caplog.records)
    assert "$Switchboard" in (await dovecot.fetch_flags())[uid]


async def test_unflagged_message_is_not_flagged_while_the_engine_keeps_failing(dovecot, make_channel, inbox) -> None:
    inbox.fail_next = 10**6
    channel = make_channel()
    await channel.start(inbox)
    uid = await dovecot.append("INBOX", MailFactory(seed=6).next().raw)
    try:
        for _ in range(50):
            if inbox.fail_next < 10**6 - 1:
                break
            await __import__("asyncio").sleep(0.05)
    finally:
        await channel.stop()
    assert inbox.fail_next < 10**6 - 1, "the channel offered the message to the engine"
    assert "$Switchboard" not in (await dovecot.fetch_flags())[uid]


async def test_real_world_samples_all_become_inbound_items(dovecot, make_channel, inbox) -> None:
    samples = sorted(FIXTURES.glob("*.eml"))
    for sample in samples:
        await dovecot.append("INBOX", sample.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    channel = make_channel()
    await channel.start(inbox)
    try:
        await inbox.wait_for(len(samples))
    finally:
        await channel.stop()
    kinds = sorted((i.metadata["message_id"], i.kind) for i in inbox.items.values())
    assert len(kinds) == len(samples)
    controls = {mid for mid, kind in kinds if kind == "control"}
    assert "<E1P1ceB-000FL1-4q@e1.example.org>" in controls
    assert "<20261103081502.5A1B2C3D4E@mx.example.com>" in controls


@pytest.mark.parametrize("size_mb", [20])
async def test_twenty_megabyte_attachment_is_kept_and_the_channel_goes_on(
    dovecot, make_channel, inbox, size_mb: int
) -> None:
    import base64
    import os

    blob = os.urandom(size_mb * 1024 * 1024)
    body = base64.encodebytes(blob).replace(b"\n", b"\r\n")
    raw = (
        b"From: Olena <olena@ukr.net>\r\nTo: support@example.com\r\nMessage-ID: <big@ukr.net>\r\n"
        b"Subject: =?utf-8?B?0KTQvtGC0L4=?=\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
        b"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nphoto\r\n--B\r\nContent-Type: image/jpeg\r\n"
        b"Content-Disposition: attachment; filename=meter.jpg\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + body + b"--B--\r\n"
    )
    await dovecot.append("INBOX", raw)
    small = MailFactory(seed=9).next()
    await dovecot.append("INBOX", small.raw)
    channel = make_channel()
    await channel.start(inbox)
    try:
        await inbox.wait_for(2, timeout=60)
    finally:
        await channel.stop()
    big = inbox.by_message_id()["<big@ukr.net>"]
    (attachment,) = big.attachments
    assert attachment.size == len(blob) and attachment.data is None
    assert Path(attachment.url.removeprefix("file://")).read_bytes() == blob
    assert small.message_id in inbox.by_message_id()


async def _flagged(dovecot, count: int, timeout_s: float = 10.0) -> None:
    """Until ``count`` messages carry the engine's flag: a batch is flagged once all of it is stored."""
    async with asyncio.timeout(timeout_s):
        while sum("$Switchboard" in f for f in (await dovecot.fetch_flags()).values()) < count:
            await asyncio.sleep(0.05)

