"""The inbound loop of one mailbox: fetch what is new, hand it to the engine, flag it, wait, repeat.

Each round searches for messages from the saved position on that do not carry the acknowledgement
flag, fetches them in batches (``BODY.PEEK[]``: the user's \\Seen state is left alone), builds an
``Inbound`` for each, and passes them to the sink one by one in UID order.  Only after the sink has
returned for a batch are its messages flagged and the position saved.  A crash anywhere in between
means the same messages are fetched again and the engine's inbox ignores the repeated dedupe keys:
nothing lost, nothing doubled.

Between rounds a quiet mailbox IDLEs (the server pushes "new mail"); a busy one (mail delivered in the
last ``busy_linger_s``) polls every ``busy_poll_interval_s``, because servers delay IDLE pushes (Dovecot
by half a second); without IDLE it polls every ``poll_interval_s``.  A lost
connection, a refused login or a timeout is logged in one line and retried with exponential backoff;
the loop itself never ends until it is cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import time

from channels.base import Inbound, InboundSink
from channels.email.imap_session import MailboxError, MailboxSession
from channels.email.inbound import InboundBuilder, MailboxMessage
from channels.email.settings import ImapSettings
from channels.email.uid_state import MailboxPosition, UidWatermark

log = logging.getLogger(__name__)

_PARSE_IN_THREAD_BYTES = 256 * 1024


class SinkFailed(Exception):
    """The engine did not store a message; it stays unflagged and is offered again."""


class MailboxWatcher:
    """Runs the inbound loop of one IMAP folder until cancelled."""

    def __init__(
        self, settings: ImapSettings, builder: InboundBuilder, sink: InboundSink, watermark: UidWatermark
    ) -> None:
        self.settings = settings
        self.builder = builder
        self.sink = sink
        self.watermark = watermark
        self.position = watermark.load()
        self.connected = asyncio.Event()
        self.delivered = 0
        self._session: MailboxSession | None = None

    @property
    def where(self) -> str:
        s = self.settings
        return f"{s.user}@{s.host}:{s.port}/{s.mailbox}"

    async def run(self) -> None:
        backoff = self.settings.reconnect_initial_s
        while True:
            session = MailboxSession(self.settings)
            self._session = session
            try:
                await session.connect()
                backoff = self.settings.reconnect_initial_s
                self._adopt(session.uidvalidity)
                self.connected.set()
                log.info("email: watching %s (uidvalidity %s, from uid %s, %s)", self.where,
                         session.uidvalidity, self.position.next_uid, "IDLE" if self._idles(session) else "polling")
                await self._serve(session)
            except asyncio.CancelledError:
                raise
            except (MailboxError, OSError, TimeoutError) as exc:
                log.warning("email: mailbox %s unavailable (%s: %s); reconnecting in %.1fs",
                            self.where, type(exc).__name__, exc, backoff)
            except Exception:  # noqa: BLE001 - the loop must outlive any single failure
                log.exception("email: unexpected failure watching %s; reconnecting in %.1fs", self.where, backoff)
            finally:
                self.connected.clear()
                self._session = None
                await session.close()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.settings.reconnect_max_s)

    def _idles(self, session: MailboxSession) -> bool:
        return self.settings.idle and session.can_idle

    def _adopt(self, uidvalidity: int) -> None:
        if self.position.uidvalidity != uidvalidity:
            if self.position.uidvalidity:
                log.warning("email: %s UIDVALIDITY changed %s -> %s; searching the whole folder",
                            self.where, self.position.uidvalidity, uidvalidity)
            self.position = MailboxPosition(uidvalidity, 1)

    async def _serve(self, session: MailboxSession) -> None:
        loop = asyncio.get_running_loop()
        sink_backoff = self.settings.reconnect_initial_s
        last_busy = -float("inf")
        refresh = False
        while True:
            try:
                if await self.sweep(session, refresh=refresh):
                    last_busy = loop.time()
                sink_backoff = self.settings.reconnect_initial_s
            except SinkFailed as exc:
                log.warning("email: %s; retrying in %.1fs", exc, sink_backoff)
                await asyncio.sleep(sink_backoff)
                sink_backoff = min(sink_backoff * 2, self.settings.reconnect_max_s)
                refresh = True
                continue
            if loop.time() - last_busy < self.settings.busy_linger_s:
                # Busy: poll quickly.  Dovecot delays IDLE notifications by 500 ms (a fixed
                # NOTIFY_DELAY_MSECS), too slow for a sub-second inbound bar under load.
                await asyncio.sleep(self.settings.busy_poll_interval_s)
                refresh = True
            elif self._idles(session):
                await session.wait_for_news(self.settings.idle_timeout_s)
                refresh = False
            else:
                await asyncio.sleep(self.settings.poll_interval_s)
                refresh = True

    async def sweep(self, session: MailboxSession, *, refresh: bool = False) -> int:
        """Deliver every unacknowledged message from the saved position on; returns how many."""
        delivered = 0
        while True:
            uids = await session.unacknowledged(self.position.next_uid, refresh=refresh)
            refresh = False
            if not uids:
                return delivered
            for start in range(0, len(uids), self.settings.fetch_batch):
                delivered += await self._deliver_batch(session, uids[start : start + self.settings.fetch_batch])

    async def _deliver_batch(self, session: MailboxSession, uids: list[int]) -> int:
        """Hand a fetched batch to the engine all at once (its stores share commits), then flag what was
        stored; the saved position stops at the first message not stored, which is fetched again."""
        messages = await session.fetch(uids)
        inbounds = [await self._build(message) for message in messages]
        outcomes = await asyncio.gather(*(self.sink(inbound) for inbound in inbounds), return_exceptions=True)
        stored: list[int] = []
        failure: SinkFailed | None = None
        first_unstored: int | None = None
        for message, inbound, outcome in zip(messages, inbounds, outcomes, strict=True):
            if isinstance(outcome, asyncio.CancelledError):
                raise outcome
            if isinstance(outcome, BaseException):  # the engine's failure must not end the loop
                if failure is None:
                    failure = SinkFailed(f"engine did not store {inbound.dedupe_key} ({type(outcome).__name__}:"
                                         f" {outcome})")
                    first_unstored = message.uid
                continue
            stored.append(message.uid)
        if stored:
            await session.acknowledge(stored)
            self.delivered += len(stored)
        # Everything below the first unstored UID is flagged (or was expunged before we fetched it).
        next_uid = first_unstored if first_unstored is not None else uids[-1] + 1
        if next_uid > self.position.next_uid:
            self.position = MailboxPosition(session.uidvalidity, next_uid)
            self.watermark.save(self.position)
        if failure is not None:
            raise failure
        return len(stored)

    async def _build(self, message: MailboxMessage) -> Inbound:
        if len(message.raw) > _PARSE_IN_THREAD_BYTES:
            started = time.perf_counter()
            inbound = await asyncio.to_thread(self.builder.build, message)
            log.info("email: parsed large message %s (%d bytes) in %.0f ms", inbound.dedupe_key,
                     len(message.raw), (time.perf_counter() - started) * 1000)
            return inbound
        return self.builder.build(message)
