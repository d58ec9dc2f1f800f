"""The SMS channel: one SMPP 3.4 transceiver bind, a window of submits, reconnect without losing or
doubling a part.

Every part stays in the channel until its ``submit_sm_resp`` says the SMSC took it.  When the connection
drops, the parts still waiting for an answer are queued again ahead of newer ones, with the same
concatenation reference, and submitted after the reconnect; a throttled part likewise after a pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from zoneinfo import ZoneInfo

from channels.base import (
    Channel,
    ChannelError,
    DeliveryReceipt,
    DeliveryReporting,
    DeliverySink,
    InboundSink,
    Outbound,
)
from channels.sms.deliveries import DeliverSmReader
from channels.sms.link import Answer, LinkLost, SmppLink
from channels.sms.part_ids import PartIdFile
from channels.sms.phones import international_digits
from channels.sms.segments import segment
from channels.sms.settings import SmsSettings, check_sender
from channels.sms.tracking import MessageBook, Part, TrackedMessage

log = logging.getLogger(__name__)

THROTTLED = (0x58, 0x14)  # ESME_RTHROTTLED, ESME_RMSGQFUL
TON_INTERNATIONAL, TON_ALPHANUMERIC, NPI_ISDN = 1, 5, 1


class SmsChannel(Channel, DeliveryReporting):
    """An SMPP account."""

    name = "sms"

    def __init__(self, settings: SmsSettings) -> None:
        self.settings = settings
        self.book = MessageBook(settings.tracked_messages, PartIdFile(settings.state_path or None, settings.tracked_messages))
        self.reader = DeliverSmReader(self.book, ZoneInfo(settings.smsc_timezone))
        self._queue: list[Part] = []
        self._queued = asyncio.Event()
        self._window = asyncio.Semaphore(settings.window)
        self._link: SmppLink | None = None
        self._bound = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._resume_at = 0.0
        self._backoff = settings.throttle_backoff_s
        self._references: dict[str, int] = {}
        self._restored = False
        self.reconnects = 0
        self.throttled = 0

    def report_deliveries(self, sink: DeliverySink) -> None:
        self.reader.delivery_sink = sink

    async def start(self, sink: InboundSink) -> None:
        """Bind (raising :class:`ChannelError` when the SMSC refuses or cannot be reached); later
        drops are reconnected by the channel itself."""
        self.reader.inbound_sink = sink
        if self._supervisor is not None:
            return
        if not self._restored:
            self._restored = True
            log.info("sms: %d multipart messages awaiting receipts taken back", self.book.restore())
        link = await self._open()
        self._supervisor = asyncio.create_task(self._supervise(link), name="sms-supervisor")

    async def stop(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        if self._link is not None:
            await self._link.close()
            self._link = None

    @property
    def connected(self) -> bool:
        return self._bound.is_set()

    # --- sending ------------------------------------------------------------------------------

    async def send(self, outbound: Outbound) -> DeliveryReceipt:
        """Submit every part of one message; returns once the SMSC took them all, with the id of the
        first part, which receipts of every part map back to.  The same ``dedupe_key`` again gives the
        same answer without a second submit."""
        known = self.book.get(outbound.dedupe_key)
        if known is not None:
            return await asyncio.shield(known.accepted)
        if outbound.recipient.kind != "phone":
            raise ChannelError(f"sms: cannot send to a {outbound.recipient.kind} address")
        destination = international_digits(outbound.recipient.value)
        sender = check_sender(str(outbound.metadata.get("sender") or self.settings.default_sender))
        numeric = sender.lstrip("+").isdigit()
        segmented = segment(outbound.text, self._next_reference(destination))
        message = TrackedMessage(dedupe_key=outbound.dedupe_key)
        common = dict(service_type="", source_addr_ton=TON_INTERNATIONAL if numeric else TON_ALPHANUMERIC,
                      source_addr_npi=NPI_ISDN if numeric else 0, source_addr=sender.lstrip("+"),
                      dest_addr_ton=TON_INTERNATIONAL, dest_addr_npi=NPI_ISDN, destination_addr=destination,
                      esm_class=segmented.esm_class, data_coding=segmented.data_coding,
                      registered_delivery=1 if self.settings.registered_delivery else 0)
        message.parts = [Part(message=message, index=n, fields={**common, "short_message": body})
                         for n, body in enumerate(segmented.parts)]
        self.book.add(message)
        for part in message.parts:
            self._enqueue(part)
        try:
            return await asyncio.shield(message.accepted)
        except ChannelError:
            self.book.forget(message)
            raise

    def _next_reference(self, destination: str) -> int:
        """Concatenation references count per recipient, so two long messages in a row never share one."""
        reference = (self._references.get(destination, -1) + 1) % 256
        self._references[destination] = reference
        if len(self._references) > self.settings.tracked_messages:
            self._references.pop(next(iter(self._references)))
        return reference

    def _enqueue(self, part: Part) -> None:
        heapq.heappush(self._queue, part)
        self._queued.set()

    async def _next_part(self) -> Part:
        while not self._queue:
            self._queued.clear()
            await self._queued.wait()
        return heapq.heappop(self._queue)

    async def _pump(self, link: SmppLink) -> None:
        """Submit queued parts while the link lives, at most ``window`` waiting for an answer."""
        while True:
            await self._window.acquire()
            part: Part | None = None
            try:
                part = await self._next_part()
                pause = self._resume_at - time.monotonic()
                if pause > 0:
                    await asyncio.sleep(pause)
                part.attempts += 1
                answer = link.request("submit_sm", **part.fields)
            except BaseException:
                self._window.release()
                if part is not None:
                    self._enqueue(part)
                raise
            answer.add_done_callback(lambda future, part=part: self._answered(part, future))

    def _answered(self, part: Part, future: asyncio.Future[Answer]) -> None:
        self._window.release()
        message = part.message
        try:
            answer = future.result()
        except LinkLost:
            self._enqueue(part)  # not acknowledged: submitted again after the reconnect
            return
        if answer.status == 0 and answer.command == "submit_sm_resp" and answer.message_id:
            self._backoff = self.settings.throttle_backoff_s
            self.book.part_accepted(part, answer.message_id)
            message.part_answered()
        elif answer.status in THROTTLED:
            self.throttled += 1
            self._resume_at = max(self._resume_at, time.monotonic() + self._backoff)
            self._backoff = min(self._backoff * 2, self.settings.throttle_backoff_max_s)
            self._enqueue(part)
        elif not message.accepted.done():
            reason = "no message id in submit_sm_resp" if answer.status == 0 else answer.status_name
            message.accepted.set_exception(ChannelError(f"sms: the SMSC refused part {part.index + 1} of "
                                                        f"{len(message.parts)}: {reason}"))

    # --- the connection -----------------------------------------------------------------------

    async def _open(self) -> SmppLink:
        s = self.settings
        link = SmppLink(s.host, s.port, s.system_id, s.password, s.system_type, s.connect_timeout_s,
                        s.store_timeout_s, self.reader.deliver)
        await link.open()
        self._link = link
        self._bound.set()
        log.info("sms: bound to %s:%d as %s", s.host, s.port, s.system_id)
        return link

    async def _supervise(self, link: SmppLink) -> None:
        delay = self.settings.reconnect_delay_s
        while True:
            tasks = [asyncio.create_task(self._pump(link)), asyncio.create_task(self._keep_alive(link))]
            try:
                await link.lost.wait()
            finally:
                self._bound.clear()
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            log.warning("sms: %s; reconnecting", link.lost_reason)
            link = await self._reconnect(delay)
            self.reconnects += 1

    async def _reconnect(self, delay: float) -> SmppLink:
        while True:
            try:
                return await self._open()
            except ChannelError as exc:
                log.error("sms: %s; trying again in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.reconnect_delay_max_s)

    async def _keep_alive(self, link: SmppLink) -> None:
        """``enquire_link`` every interval; no answer in time, or a submit unanswered too long, drops
        the connection (and the supervisor reconnects)."""
        interval = self.settings.enquire_link_interval_s
        timeout = self.settings.response_timeout_s
        while not link.lost.is_set():
            await asyncio.sleep(min(interval, timeout / 2))
            if link.oldest_wait_s() > timeout:
                link.abort(f"no answer within {timeout:.0f} s")
                return
            try:
                await asyncio.wait_for(link.request("enquire_link"), timeout)
            except TimeoutError:
                link.abort(f"enquire_link unanswered for {timeout:.0f} s")
                return
            except LinkLost:
                return
