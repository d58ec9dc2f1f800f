"""What the SMSC delivers to us: delivery receipts (to the delivery sink, once per message) and
mobile-originated messages (to the inbound sink, as ``sms:+380...`` conversations)."""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from datetime import UTC, datetime, tzinfo
from typing import Any

from channels.base import Address, DeliverySink, DeliveryUpdate, Inbound, InboundSink
from channels.sms.link import ESME_ROK
from channels.sms.phones import e164
from channels.sms.receipts import MalformedReceipt, Receipt, is_receipt, parse_receipt
from channels.sms.segments import decode_text, split_udh
from channels.sms.tracking import MessageBook

log = logging.getLogger(__name__)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1").rstrip("\x00")
    return "" if value is None else str(value)


class DeliverSmReader:
    """Turns each ``deliver_sm`` into a :class:`DeliveryUpdate` or an :class:`Inbound`."""

    def __init__(self, book: MessageBook, zone: tzinfo) -> None:
        self.book = book
        self.zone = zone
        self.inbound_sink: InboundSink | None = None
        self.delivery_sink: DeliverySink | None = None
        self.unknown_receipts = 0
        self.repeated_receipts = 0
        self._mo_parts: OrderedDict[tuple[str, int, int], dict[int, tuple[bytes, int]]] = OrderedDict()

    async def deliver(self, pdu: Any) -> int:
        """Store what one ``deliver_sm`` says; returns the ``deliver_sm_resp`` status (raises to have
        the SMSC deliver it again)."""
        esm_class = int(pdu.esm_class or 0)
        receipted = getattr(pdu, "receipted_message_id", None)
        if is_receipt(esm_class) or receipted:
            try:
                receipt = parse_receipt(pdu.short_message, receipted, getattr(pdu, "message_state", None), self.zone)
            except MalformedReceipt as exc:
                log.warning("sms: %s; acknowledged and dropped", exc)
                return ESME_ROK
            await self._receipt(receipt)
        else:
            await self._mobile_originated(pdu, esm_class)
        return ESME_ROK

    async def _receipt(self, receipt: Receipt) -> None:
        if receipt.state is None:
            return  # an intermediate state (ENROUTE, ACCEPTD): the final receipt follows
        found = self.book.find(receipt.message_id)
        if found is None:
            if not self.book.first_unknown(receipt):
                self.repeated_receipts += 1
                return
            self.unknown_receipts += 1
            log.info("sms: receipt for unknown message id %s (%s) passed on", receipt.message_id, receipt.stat)
            await self._report(receipt.message_id, receipt)
            return
        message, index = found
        outcome = message.outcome(index, receipt)
        if outcome is None:
            if message.reported:
                self.repeated_receipts += 1
            return
        try:
            await self._report(message.external_id or receipt.message_id, outcome)
        except BaseException:
            message.reported = False
            message.outcomes.pop(index, None)
            raise

    async def _report(self, external_id: str, receipt: Receipt) -> None:
        assert receipt.state is not None
        if self.delivery_sink is None:
            raise RuntimeError("no delivery sink: report_deliveries() was not called")
        await self.delivery_sink(DeliveryUpdate(channel="sms", external_id=external_id, state=receipt.state,
                                                occurred_at=receipt.done_at or datetime.now(UTC),
                                                reason=receipt.reason))

    async def _mobile_originated(self, pdu: Any, esm_class: int) -> None:
        if self.inbound_sink is None:
            raise RuntimeError("no inbound sink: start() was not called")
        source = _text(pdu.source_addr)
        raw = bytes(pdu.short_message or b"")
        concat, body = split_udh(raw, esm_class)
        coding = int(pdu.data_coding or 0)
        if concat is not None and concat[1] > 1:
            whole = self._join(source, concat, body, coding)
            if whole is None:
                return  # a part of a longer reply: kept until the others arrive
            text = whole
        else:
            text = decode_text(body, coding)
        phone = e164(source)
        digest = hashlib.sha256(b"|".join((source.encode(), _text(pdu.destination_addr).encode(), raw))).hexdigest()[:20]
        # A repeated deliver_sm (our answer was lost) has no id of its own: the same sender, text and
        # hour make the same key.
        hour = datetime.now(UTC).strftime("%Y%m%d%H")
        await self.inbound_sink(Inbound(channel="sms", thread_key=f"sms:{phone}", dedupe_key=f"sms:{phone}:{hour}:{digest}",
                                        sender=Address("phone", phone), text=text,
                                        metadata={"to": _text(pdu.destination_addr), "data_coding": int(pdu.data_coding or 0)}))

    def _join(self, source: str, concat: tuple[int, int, int], body: bytes, coding: int) -> str | None:
        """The whole text of a concatenated reply once every part came, else ``None``.  At most 10,000
        replies wait for their parts; the oldest is given up past that."""
        reference, total, seq = concat
        key = (source, reference, total)
        parts = self._mo_parts.setdefault(key, {})
        parts[seq] = (body, coding)
        while len(self._mo_parts) > 10_000:
            dropped, _ = self._mo_parts.popitem(last=False)
            log.warning("sms: the parts of a reply from %s never all came; given up", dropped[0])
        if len(parts) < total:
            return None
        del self._mo_parts[key]
        return "".join(decode_text(part, part_coding) for _seq, (part, part_coding) in sorted(parts.items()))
