"""Captured AMI transcripts (tests/fixtures/ami) replayed through the call tracker."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from channels.base import Inbound
from channels.voice.codec import AmiDecoder, AmiMessage
from channels.voice.settings import VoiceSettings
from channels.voice.tracker import CallTracker

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ami"


def transcript(name: str) -> bytes:
    """A fixture's AMI bytes: comment lines dropped, line ends made CRLF as on the wire."""
    lines = [line for line in (FIXTURES / name).read_text().splitlines() if not line.startswith("#")]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def messages(data: bytes) -> list[AmiMessage]:
    return [m for m in AmiDecoder(expect_greeting=False).feed(data) if isinstance(m, AmiMessage)]


def replay(data: bytes, **settings: object) -> list[Inbound]:
    emitted: list[Inbound] = []
    tracker = CallTracker(VoiceSettings(**settings), emitted.append, clock=lambda: datetime(2026, 11, 22, tzinfo=UTC))  # type: ignore[arg-type]
    for message in messages(data):
        if message.is_event:
            tracker.handle(message)
    return emitted
