"""Replies are composed with the right threading headers, subject tag, sender and files."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest

from channels.base import Address, Attachment, ChannelError, Outbound
from channels.email.mime import parse_mail
from channels.email.outbound import compose_reply
from channels.email.settings import EmailSettings
from channels.email.thread_keys import ThreadResolver

SETTINGS = EmailSettings(from_address="support@example.com", display_name="Служба підтримки")
RESOLVER = ThreadResolver(domain=SETTINGS.domain)
ROOT = "<first@ukr.net>"


def reply(**meta: object) -> Outbound:
    return Outbound(
        channel="email", thread_key=f"email:{ROOT}",
        recipient=Address("email", "olena@ukr.net", "Олена Коваленко"),
        text="Добрий день! Перерахунок зроблено.", dedupe_key="reply-1", subject="Неправильне нарахування",
        metadata={"ticket_number": "26-001042", "in_reply_to": "<second@ukr.net>", "references": [ROOT], **meta},
    )


def roundtrip(outbound: Outbound):
    raw = compose_reply(outbound, SETTINGS, RESOLVER).as_bytes()
    return raw, message_from_bytes(raw, policy=default)


def test_headers_of_a_reply() -> None:
    raw, msg = roundtrip(reply())
    assert msg["Subject"] == "[#26-001042] Re: Неправильне нарахування"
    assert msg["In-Reply-To"] == "<second@ukr.net>"
    assert msg["References"] == f"{ROOT} <second@ukr.net>"
    assert msg["From"].addresses[0].display_name == "Служба підтримки"
    assert msg["To"].addresses[0].addr_spec == "olena@ukr.net"
    assert msg["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert msg["Auto-Submitted"] is None
    assert msg.get_content().strip() == "Добрий день! Перерахунок зроблено."
    assert all(byte < 128 for byte in raw), "7-bit transfer encoding for any relay"


def test_same_outbound_gives_the_same_message_id() -> None:
    assert roundtrip(reply())[1]["Message-ID"] == roundtrip(reply())[1]["Message-ID"]


def test_client_reply_to_our_reply_threads_back_even_without_references() -> None:
    _, ours = roundtrip(reply())
    client = (
        f"From: olena@ukr.net\r\nMessage-ID: <third@ukr.net>\r\nIn-Reply-To: {ours['Message-ID']}\r\n"
        f"Subject: Re: [#26-001042] Re: Неправильне нарахування\r\n\r\nДякую\r\n"
    ).encode()
    mail = parse_mail(client)
    link = RESOLVER.resolve(mail.message_id, mail.in_reply_to, mail.references, mail.subject)
    assert (link.thread_key, link.ticket_number) == (f"email:{ROOT}", "26-001042")


def test_bot_reply_is_marked_automatic() -> None:
    _, msg = roundtrip(reply(automatic=True))
    assert msg["Auto-Submitted"] == "auto-replied"


def test_html_alternative_cc_and_attachments(tmp_path: Path) -> None:
    spooled = tmp_path / "act.pdf"
    spooled.write_bytes(b"%PDF-1.4 big")
    outbound = Outbound(
        channel="email", thread_key=f"email:{ROOT}", recipient=Address("email", "olena@ukr.net"),
        text="Див. вкладення", dedupe_key="reply-2",
        attachments=(
            Attachment("довідка.txt", "text/plain", 5, data=b"hello"),
            Attachment("акт.pdf", "application/pdf", 12, url=spooled.as_uri()),
        ),
        metadata={"ticket_number": 5, "html": "<p>Див. <b>вкладення</b></p>", "cc": ["boss@ukr.net"]},
    )
    _, msg = roundtrip(outbound)
    assert msg["Subject"] == "[#5]"
    assert msg["Cc"] == "boss@ukr.net"
    assert msg.get_body(("html",)).get_content().strip() == "<p>Див. <b>вкладення</b></p>"
    files = {part.get_filename(): part.get_payload(decode=True) for part in msg.iter_attachments()}
    assert files == {"довідка.txt": b"hello", "акт.pdf": b"%PDF-1.4 big"}


def test_bad_recipient_is_a_channel_error() -> None:
    outbound = Outbound(channel="email", thread_key="email:<x@y>", recipient=Address("email", "nobody"),
                        text="x", dedupe_key="d")
    with pytest.raises(ChannelError, match="not an e-mail address"):
        compose_reply(outbound, SETTINGS, RESOLVER)
