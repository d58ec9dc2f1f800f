"""A real Dovecot (skipped with the reason when it is not installed) and a real aiosmtpd relay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from channels.base import Inbound
from channels.email import EmailChannel, build
from channels.sandbox.mail import DovecotServer, SmtpCapture

pytestmark = pytest.mark.integration


@pytest.fixture
async def dovecot() -> AsyncIterator[DovecotServer]:
    if not DovecotServer.available():
        pytest.skip("Dovecot is not installed (apt-get install -y dovecot-imapd): IMAP tests skipped")
    server = DovecotServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop(remove=True)


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpCapture]:
    relay = SmtpCapture()
    await relay.start()
    try:
        yield relay
    finally:
        await relay.stop()


class Inbox:
    """The engine's inbox as the channel sees it: stores by dedupe key, ignores repeats."""

    def __init__(self) -> None:
        self.items: dict[str, Inbound] = {}
        self.calls: list[Inbound] = []
        self.fail_next = 0
        self._changed = asyncio.Event()

    async def __call__(self, inbound: Inbound) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise RuntimeError("database unavailable")
        self.calls.append(inbound)
        self.items.setdefault(inbound.dedupe_key, inbound)
        self._changed.set()

    def by_message_id(self) -> dict[str, Inbound]:
        return {i.metadata["message_id"]: i for i in self.items.values()}

    async def wait_for(self, count: int, timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.items) < count:
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def make_channel(dovecot: DovecotServer, smtp: SmtpCapture, tmp_path: Path) -> Callable[..., EmailChannel]:
    def make(**imap: object) -> EmailChannel:
        return build({
            "from_address": dovecot.user, "display_name": "Служба підтримки",
            "attachment_inline_max_bytes": 1_048_576,
            "spool_dir": str(tmp_path / "spool"), "state_path": str(tmp_path / "uid-state.json"),
            "imap": {**dovecot.imap_settings(), "reconnect_initial_s": 0.1, "reconnect_max_s": 0.5,
                     "command_timeout_s": 10, **imap},
            "smtp": smtp.smtp_settings(),
        })
    return make
