"""Delivery reports of channels with the ``DeliveryReporting`` role (an SMPP receipt, a Viber Business
delivered/seen callback) recorded on their outbox message, idempotently."""

from __future__ import annotations

import logging
from collections import Counter

from channels.base import DeliveryUpdate
from crm_core.driver_sql import Source
from crm_core.outbox import record_delivery

log = logging.getLogger(__name__)


class DeliveryRecorder:
    """The :data:`channels.base.DeliverySink` of the engine.  A report for an id no message carries is
    logged and counted, not an error (the peer may report on a message sent before the outbox existed);
    a repeated report changes nothing."""

    def __init__(self, db: Source) -> None:
        self.db = db
        self.outcomes: Counter[str] = Counter()

    async def __call__(self, update: DeliveryUpdate) -> None:
        outcome = await record_delivery(self.db, update.channel, update.external_id, update.state, update.reason,
                                        update.occurred_at)
        self.outcomes[outcome] += 1
        if outcome == "unknown":
            log.warning("delivery report %s for %s:%s names no outbox message", update.state, update.channel,
                        update.external_id)
