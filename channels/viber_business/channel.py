"""Viber Business Messages through an aggregator: messages to clients who never subscribed to the bot
(``Address("phone", ...)``), delivery and seen reports on the gateway's webhook."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections import OrderedDict
from collections.abc import Mapping

from channels.base import (
    ChannelError,
    DeliveryReceipt,
    DeliveryReporting,
    DeliverySink,
    DeliveryUpdate,
    InboundSink,
    Outbound,
    WebhookChannel,
    WebhookRejected,
    WebhookReply,
)
from channels.viber_business.api import AggregatorApi
from channels.viber_business.reports import updates_from_report
from channels.viber_business.settings import LABELS, ViberBusinessSettings

log = logging.getLogger(__name__)


def destination_digits(phone: str) -> str:
    """``+380 67 123-45-67`` / ``0671234567`` -> ``380671234567`` (the aggregator's ``to``)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) == 10 and digits.startswith("0"):
        digits = "38" + digits
    if not 8 <= len(digits) <= 15 or (digits.startswith("380") and len(digits) != 12):
        raise ChannelError(f"viber_business: {phone!r} is not a phone number")
    return digits


class ViberBusinessChannel(WebhookChannel, DeliveryReporting):
    """One Viber Business sender at the aggregator."""

    name = "viber_business"

    def __init__(self, settings: ViberBusinessSettings) -> None:
        self.settings = settings
        self.api = AggregatorApi(settings)
        self._sink: DeliverySink | None = None
        self._sent: OrderedDict[str, asyncio.Future[DeliveryReceipt]] = OrderedDict()
        self._reported: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._reporting: set[asyncio.Task[None]] = set()

    def report_deliveries(self, sink: DeliverySink) -> None:
        self._sink = sink

    async def start(self, sink: InboundSink) -> None:
        """Nothing to connect: the aggregator is called per message and calls the webhook back."""
        log.info("viber_business: sender %r via %s", self.settings.sender, self.settings.api_url)

    async def stop(self) -> None:
        await self.drain()
        await self.api.close()

    async def send(self, outbound: Outbound) -> DeliveryReceipt:
        """Submit one message; its ``dedupe_key`` is the aggregator's ``messageId``, so reports name it,
        and a repeated key gives the first answer without a second submit."""
        known = self._sent.get(outbound.dedupe_key)
        if known is not None:
            return await asyncio.shield(known)
        if outbound.recipient.kind != "phone":
            raise ChannelError(f"viber_business: cannot send to a {outbound.recipient.kind} address")
        if not outbound.text:
            raise ChannelError("viber_business: the text is empty")
        label = str(outbound.metadata.get("label") or self.settings.label)
        if label not in LABELS:
            raise ChannelError(f"viber_business: label must be one of {LABELS}")
        destination = destination_digits(outbound.recipient.value)
        future: asyncio.Future[DeliveryReceipt] = asyncio.get_running_loop().create_future()
        self._sent[outbound.dedupe_key] = future
        while len(self._sent) > self.settings.tracked_messages:
            self._sent.popitem(last=False)
        try:
            accepted = await self.api.send_text(destination, outbound.dedupe_key, outbound.text, label)
        except ChannelError as exc:
            self._sent.pop(outbound.dedupe_key, None)
            future.set_exception(exc)
            future.exception()  # retrieved here; concurrent callers get it through the shield
            raise
        receipt = DeliveryReceipt(external_id=accepted.message_id)
        future.set_result(receipt)
        return receipt

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        wanted = self.settings.signature_header.lower()
        signature = next((v for k, v in headers.items() if k.lower() == wanted), "")
        expected = hmac.new(self.settings.callback_secret.encode(), body, hashlib.sha256).hexdigest()
        if not signature or not hmac.compare_digest(signature.removeprefix("sha256=").lower(), expected):
            log.warning("viber_business: report refused, %s signature", "wrong" if signature else "missing")
            raise WebhookRejected(403, f"{self.settings.signature_header} missing or wrong")

    def handle_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookReply:
        """Verify and parse one delivery or seen report; its updates go to the delivery sink (a
        repeated report once), the aggregator gets 200."""
        self.verify(headers, body)
        try:
            updates = updates_from_report(json.loads(body))
        except (ValueError, UnicodeDecodeError) as exc:
            log.warning("viber_business: report refused (%s); raw payload: %r", exc, body[:2000])
            raise WebhookRejected(400, f"not a delivery or seen report: {exc}") from exc
        fresh = [u for u in updates if self._first(u)]
        if fresh:
            task = asyncio.get_running_loop().create_task(self._report(fresh))
            self._reporting.add(task)
            task.add_done_callback(self._reporting.discard)
        return WebhookReply(body=b'{"status":"ok"}')

    def _first(self, update: DeliveryUpdate) -> bool:
        key = (update.external_id, update.state)
        if key in self._reported:
            return False
        self._reported[key] = None
        while len(self._reported) > self.settings.tracked_messages:
            self._reported.popitem(last=False)
        return True

    async def _report(self, updates: list[DeliveryUpdate]) -> None:
        """Hand updates to the sink, trying again while it fails (the report was already answered)."""
        for update in updates:
            delay = 0.1
            while True:
                try:
                    if self._sink is None:
                        raise ChannelError("no delivery sink: report_deliveries() was not called")
                    await self._sink(update)
                    break
                except Exception as exc:  # noqa: BLE001 - the update must not be lost while the process lives
                    log.error("viber_business: %s for %s not stored (%r); trying again", update.state,
                              update.external_id, exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)

    async def drain(self) -> None:
        """Wait until every report received so far is in the delivery sink."""
        while self._reporting:
            await asyncio.gather(*list(self._reporting), return_exceptions=True)
