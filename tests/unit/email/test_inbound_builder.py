"""From raw bytes to the engine's Inbound: the fields of the contract."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import urlparse

import pytest

from channels.email.inbound import InboundBuilder, MailboxMessage
from channels.email.spool import AttachmentSpool
from channels.email.thread_keys import ThreadResolver
from channels.sandbox.mail.mail_factory import MailFactory

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "email"


@pytest.fixture
def builder(tmp_path: Path) -> InboundBuilder:
    return InboundBuilder(
        mailbox="support@example.com/INBOX",
        resolver=ThreadResolver(domain="example.com"),
        spool=AttachmentSpool(tmp_path / "spool", inline_max_bytes=1024),
        own_addresses={"support@example.com"},
    )


def test_contract_fields(builder: InboundBuilder) -> None:
    raw = (FIXTURES / "made-html-only-koi8u.eml").read_bytes()
    inbound = builder.build(MailboxMessage(uidvalidity=17, uid=5, raw=raw))
    assert inbound.channel == "email"
    assert inbound.dedupe_key == "email:support@example.com/INBOX:17:5"
    assert inbound.thread_key == "email:<4bd8b1b6-our-reply-kept-by-nobody@elsewhere.example>"
    assert inbound.sender.kind == "email"
    assert inbound.sender.value == "mykola.bondar@meta.ua"
    assert inbound.sender.display_name == "Микола Бондар"
    assert inbound.kind == "message"
    meta = inbound.metadata
    assert meta["message_id"] == "<html-only-koi8u@meta.ua>"
    assert meta["in_reply_to"] == "<4bd8b1b6-our-reply-kept-by-nobody@elsewhere.example>"
    assert meta["ticket_number"] == "1042"
    assert meta["raw_size"] == len(raw)
    assert meta["auto_submitted"] is False
    assert meta["malformed"] is None
    assert "raw" not in meta
    assert "<b>" in meta["html"]


def test_automatic_mail_is_a_control_item(builder: InboundBuilder) -> None:
    raw = (FIXTURES / "made-dsn-multipart-report.eml").read_bytes()
    inbound = builder.build(MailboxMessage(1, 1, raw))
    assert inbound.kind == "control"
    assert inbound.metadata["auto_submitted"] is True


def test_malformed_message_keeps_its_raw_bytes(builder: InboundBuilder) -> None:
    raw = (FIXTURES / "cpython-msg_35-no-header-separator.eml").read_bytes()
    inbound = builder.build(MailboxMessage(1, 2, raw))
    assert "MissingHeaderBodySeparatorDefect" in inbound.metadata["malformed"]
    assert base64.b64decode(inbound.metadata["raw"]) == raw


def test_large_malformed_message_is_kept_in_the_spool(builder: InboundBuilder) -> None:
    raw = (FIXTURES / "cpython-msg_35-no-header-separator.eml").read_bytes() + b"x" * 5000
    inbound = builder.build(MailboxMessage(1, 3, raw))
    assert "raw" not in inbound.metadata
    assert Path(urlparse(inbound.metadata["raw_url"]).path).read_bytes() == raw


def test_attachments_inline_below_the_cap_and_spooled_above(builder: InboundBuilder) -> None:
    factory = MailFactory(seed=3)
    big = bytes(range(256)) * 40
    raw = (
        b"From: a@ukr.net\r\nMessage-ID: <att@ukr.net>\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
        b"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\xd0\xa4\xd0\xbe\xd1\x82\xd0\xbe\r\n"
        b"--B\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename=small.jpg\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(b"tiny") +
        b"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"=?utf-8?B?"
        + base64.b64encode("рахунок.pdf".encode()) + b"?=\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(big) + b"--B--\r\n"
    )
    assert factory is not None
    inbound = builder.build(MailboxMessage(1, 4, raw))
    assert inbound.text == "Фото"
    small, large = inbound.attachments
    assert (small.filename, small.data, small.url) == ("small.jpg", b"tiny", None)
    assert large.filename == "рахунок.pdf"
    assert large.data is None and large.size == len(big)
    assert Path(urlparse(large.url).path).read_bytes() == big
    again = builder.build(MailboxMessage(1, 4, raw))
    assert again.attachments[1].url == large.url


def test_generated_traffic_builds_for_every_kind(builder: InboundBuilder) -> None:
    factory = MailFactory(seed=11)
    kinds = set()
    for uid in range(1, 200):
        mail = factory.next()
        inbound = builder.build(MailboxMessage(9, uid, mail.raw))
        kinds.add(mail.kind)
        assert inbound.metadata["message_id"] == mail.message_id
        assert inbound.thread_key == f"email:{mail.thread_root}"
        assert inbound.kind == ("control" if mail.kind == "auto_reply" else "message")
        assert inbound.metadata["malformed"] is None
        assert inbound.sender.display_name == mail.sender.name
        assert inbound.text
    assert kinds == {"new", "reply", "reply_no_references", "html", "attachment", "auto_reply"}
