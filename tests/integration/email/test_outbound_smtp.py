"""Replies through a real SMTP relay (aiosmtpd), filed in Sent, and threaded back when answered."""

from __future__ import annotations

import pytest

from channels.base import Address, ChannelError, Outbound
from channels.email import build
from channels.sandbox.mail import MailFactory


async def test_reply_is_sent_filed_and_its_answer_threads_back(dovecot, smtp, make_channel, inbox) -> None:
    channel = make_channel()
    await channel.start(inbox)
    try:
        customer = MailFactory(seed=21).next()
        await dovecot.append("INBOX", customer.raw)
        await inbox.wait_for(1)
        first = inbox.by_message_id()[customer.message_id]
        receipt = await channel.send(Outbound(
            channel="email", thread_key=first.thread_key, recipient=first.sender,
            text="Добрий день! Заявку прийнято.", dedupe_key="reply-1", subject=first.subject,
            metadata={"ticket_number": "26-001042", "in_reply_to": first.metadata["message_id"],
                      "references": first.metadata["references"]},
        ))
        (captured,) = await smtp.wait_for(1)
        sent = captured.message
        assert receipt.external_id == sent["Message-ID"]
        assert captured.recipients == (first.sender.value,)
        assert sent["Subject"] == f"[#26-001042] Re: {first.subject}"
        assert sent["In-Reply-To"] == customer.message_id
        assert sent["References"].split()[0] == customer.thread_root
        assert len(await dovecot.fetch_flags("Sent")) == 1

        answer = (
            f"From: {first.sender.value}\r\nTo: support@example.com\r\nMessage-ID: <answer@ukr.net>\r\n"
            f"In-Reply-To: {receipt.external_id}\r\nSubject: Re: [#26-001042] Re: x\r\n\r\nДякую!\r\n"
        ).encode()
        await dovecot.append("INBOX", answer)
        await inbox.wait_for(2)
    finally:
        await channel.stop()
    threaded = inbox.by_message_id()["<answer@ukr.net>"]
    assert threaded.thread_key == first.thread_key
    assert threaded.metadata["ticket_number"] == "26-001042"


async def test_refused_reply_is_a_channel_error(smtp, make_channel) -> None:
    channel = make_channel(sent_mailbox="")
    smtp.refuse_next = 1
    with pytest.raises(ChannelError, match="554"):
        await channel.send(Outbound(channel="email", thread_key="email:<a@b>",
                                    recipient=Address("email", "olena@ukr.net"), text="x", dedupe_key="r"))
    assert smtp.messages == []


async def test_unreachable_relay_is_a_channel_error(dovecot) -> None:
    closed = build({"from_address": dovecot.user, "imap": dovecot.imap_settings(),
                    "smtp": {"host": "127.0.0.1", "port": 1, "timeout_s": 2}})
    with pytest.raises(ChannelError, match="unreachable"):
        await closed.send(Outbound(channel="email", thread_key="email:<a@b>",
                                   recipient=Address("email", "olena@ukr.net"), text="x", dedupe_key="r"))
