"""Automatic mail is recognised by every common signal, and a person's mail is not."""

from __future__ import annotations

import pytest

from channels.email.mime import parse_mail

PERSON = b"From: Olena <olena@ukr.net>\r\nTo: support@example.com\r\nMessage-ID: <p1@ukr.net>\r\nSubject: Hi\r\n"


@pytest.mark.parametrize(
    ("extra", "sender", "expected"),
    [
        (b"Auto-Submitted: auto-replied (vacation)\r\n", b"", "Auto-Submitted: auto-replied"),
        (b"Auto-Submitted: auto-generated\r\n", b"", "Auto-Submitted: auto-generated"),
        (b"X-Autoreply: yes\r\n", b"", "X-Autoreply: yes"),
        (b"Precedence: junk\r\n", b"", "Precedence: junk"),
        (b"Return-Path: <>\r\n", b"", "bounce: null return path"),
        (b"", b"From: MAILER-DAEMON@mx.ukr.net\r\n", "bounce: sent by mailer-daemon@mx.ukr.net"),
        (b"", b"From: Support <Support@Example.com>\r\n", "sent from our own address"),
        (b"X-Loop: support@example.com\r\n", b"", "X-Loop names our address"),
    ],
)
def test_automatic_signals(extra: bytes, sender: bytes, expected: str) -> None:
    head = PERSON if not sender else PERSON.replace(b"From: Olena <olena@ukr.net>\r\n", sender)
    mail = parse_mail(head + extra + b"\r\nbody\r\n", ["support@example.com"])
    assert mail.automatic == expected


def test_person_writing_is_not_automatic() -> None:
    mail = parse_mail(PERSON + b"Auto-Submitted: no\r\nPrecedence: normal\r\n\r\nbody\r\n", ["support@example.com"])
    assert mail.automatic is None
