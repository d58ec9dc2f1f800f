"""Drive customer e-mail into a sandbox mailbox at a steady rate, the way a busy day does."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from channels.sandbox.mail.dovecot import DovecotServer
from channels.sandbox.mail.mail_factory import DEFAULT_SENDERS, MailFactory, MailKind, Sender

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AppendedMail:
    """One mail put into the mailbox: when (wall clock, just before APPEND), where, and what."""

    message_id: str
    uid: int
    kind: MailKind
    thread_root: str
    appended_at: float


async def run_traffic(
    server: DovecotServer,
    rate_per_s: float,
    duration_s: float | None = None,
    senders: Sequence[Sender] = DEFAULT_SENDERS,
    *,
    count: int | None = None,
    mailbox: str = "INBOX",
    factory: MailFactory | None = None,
) -> list[AppendedMail]:
    """APPEND mails at ``rate_per_s`` until ``duration_s`` passed or ``count`` were sent (or cancelled).

    With neither limit it runs until cancelled.  Falling behind (a slow server) is caught up without
    sleeping, so the average rate holds.  Returns what was appended, for latency and loss checks.
    """
    factory = factory or MailFactory(to_address=server.user, senders=tuple(senders))
    loop = asyncio.get_running_loop()
    interval = 1.0 / rate_per_s
    started = next_at = loop.time()
    sent: list[AppendedMail] = []
    try:
        while (count is None or len(sent) < count) and (duration_s is None or loop.time() - started < duration_s):
            mail = factory.next()
            appended_at = time.time()
            uid = await server.append(mailbox, mail.raw)
            sent.append(AppendedMail(mail.message_id, uid, mail.kind, mail.thread_root, appended_at))
            next_at += interval
            delay = next_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
    except asyncio.CancelledError:
        log.info("email sandbox: traffic stopped after %d mails", len(sent))
        raise
    return sent
