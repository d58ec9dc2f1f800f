"""IMAP answers as aioimaplib hands them over, parsed into values."""

from __future__ import annotations

from channels.email.imap_session import parse_fetch, uid_set


def test_uid_set_is_compact() -> None:
    assert uid_set([1, 2, 3, 7, 9, 10]) == "1:3,7,9:10"
    assert uid_set([4]) == "4"


def test_fetch_answer_with_uid_before_and_after_the_literal() -> None:
    lines = [
        b"1 FETCH (UID 5 BODY[] {3}", bytearray(b"abc"), b")",
        b"2 FETCH (BODY[] {2}", bytearray(b"de"), b" UID 6)",
        b"3 FETCH (FLAGS (\\Seen) UID 7)",
        b"Fetch completed (0.001 + 0.000 secs).",
    ]
    assert parse_fetch(lines) == [(5, b"abc"), (6, b"de")]
