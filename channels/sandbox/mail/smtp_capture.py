"""An SMTP relay that keeps what it is given: aiosmtpd on 127.0.0.1, a free port, in the caller's loop.

Replies the channel sends land in :attr:`SmtpCapture.messages` as raw bytes with their envelope, so a
test or the demo can read them back as a real mail client would.  ``refuse_next`` makes the relay
answer the next N messages with a permanent error, to exercise the channel's failure path.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True, slots=True)
class CapturedMail:
    envelope_from: str
    recipients: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class _Keeper:
    def __init__(self, capture: SmtpCapture) -> None:
        self.capture = capture

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.capture.refuse_next > 0:
            self.capture.refuse_next -= 1
            return "554 5.7.1 Message refused by the sandbox"
        raw = envelope.original_content or bytes(envelope.content or b"")
        mail = CapturedMail(str(envelope.mail_from), tuple(str(r) for r in envelope.rcpt_tos), raw)
        self.capture.messages.append(mail)
        self.capture._arrived.set()
        return "250 2.0.0 Message accepted"


class SmtpCapture:
    """``await start()`` then point the channel's ``[email.smtp]`` at :meth:`smtp_settings`."""

    def __init__(self) -> None:
        self.messages: list[CapturedMail] = []
        self.refuse_next = 0
        self.port = 0
        self._server: asyncio.AbstractServer | None = None
        self._arrived = asyncio.Event()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        handler = _Keeper(self)
        self._server = await loop.create_server(
            lambda: SMTP(handler, hostname="sandbox.localhost", decode_data=False, data_size_limit=64 * 1024 * 1024),
            host="127.0.0.1", port=0,
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def smtp_settings(self) -> dict[str, object]:
        return {"host": "127.0.0.1", "port": self.port, "tls": "off"}

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[CapturedMail]:
        """Wait until at least ``count`` messages were accepted; returns them all."""
        async with asyncio.timeout(timeout):
            while len(self.messages) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return list(self.messages)
