"""The e-mail channel: one IMAP folder in, one SMTP relay out, a Sent folder for copies."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from channels.base import Channel, ChannelError, DeliveryReceipt, InboundSink, Outbound
from channels.email.imap_session import MailboxError, MailboxSession
from channels.email.inbound import InboundBuilder
from channels.email.mailbox_watcher import MailboxWatcher
from channels.email.outbound import compose_reply
from channels.email.settings import EmailSettings
from channels.email.smtp_sender import submit
from channels.email.spool import AttachmentSpool
from channels.email.thread_keys import SubjectTag, ThreadResolver
from channels.email.uid_state import UidWatermark

log = logging.getLogger(__name__)
# aioimaplib logs every untagged response it does not route (one per new message) at INFO.
logging.getLogger("aioimaplib.aioimaplib").setLevel(logging.WARNING)


class EmailChannel(Channel):
    """``start(sink)`` watches the mailbox; ``send(outbound)`` mails a reply and files a copy in Sent."""

    name = "email"

    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings
        self.resolver = ThreadResolver(domain=settings.domain, tag=SubjectTag(settings.subject_tag))
        self.mailbox = f"{settings.imap.user}/{settings.imap.mailbox}"
        self.builder = InboundBuilder(
            mailbox=self.mailbox,
            resolver=self.resolver,
            spool=AttachmentSpool(settings.spool_dir, settings.attachment_inline_max_bytes),
            own_addresses=frozenset({settings.from_address.lower()}),
        )
        self.watcher: MailboxWatcher | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, sink: InboundSink) -> None:
        """Start the inbound loop; returns once the mailbox is selected, or after one command timeout.

        A mailbox that is down at start does not block the engine: the loop keeps reconnecting.
        """
        if self._task is not None:
            return
        watermark = UidWatermark(self.settings.state_path, f"{self.settings.imap.host}:{self.mailbox}")
        self.watcher = MailboxWatcher(self.settings.imap, self.builder, sink, watermark)
        self._task = asyncio.create_task(self.watcher.run(), name=f"email-watcher:{self.mailbox}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.watcher.connected.wait(), self.settings.imap.command_timeout_s)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def send(self, outbound: Outbound) -> DeliveryReceipt:
        if outbound.channel != "email":
            raise ChannelError(f"the e-mail channel cannot send a {outbound.channel} reply")
        message = compose_reply(outbound, self.settings, self.resolver)
        await submit(message, self.settings.smtp, self.settings.from_address)
        message_id = str(message["Message-ID"])
        self.resolver.remember(message_id, outbound.thread_key.removeprefix("email:"))
        if self.settings.imap.sent_mailbox:
            await self._file_sent_copy(message.as_bytes(), message_id)
        return DeliveryReceipt(external_id=message_id)

    async def _file_sent_copy(self, raw: bytes, message_id: str) -> None:
        """APPEND the sent message to the Sent folder; a failure is logged, the reply stays sent."""
        session = MailboxSession(self.settings.imap)
        try:
            await session.connect()
            await session.append(self.settings.imap.sent_mailbox, raw)
        except (MailboxError, OSError, TimeoutError) as exc:
            log.warning("email: reply %s sent, but its copy was not filed in %s (%s)",
                        message_id, self.settings.imap.sent_mailbox, exc)
        finally:
            await session.close()
