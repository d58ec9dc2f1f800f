"""Where every outbound message to a client enters: stored in the outbox (once per dedupe key) on the
shard of its client's sender, with its channel chain, before the caller hears it was accepted."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from actors.informing.rate_limits import ChannelRateLimits
from actors.runtime.ref import shard_of
from crm_core.driver_sql import Source
from crm_core.outbox import OutboundMessage, Queued, enqueue
from routing.informing.config import InformingSettings
from routing.informing.triggers import fire

SENDER_KIND = "sender"


class OutboxWriter:
    def __init__(self, db: Source, settings: InformingSettings, shards: int) -> None:
        self.db = db
        self.settings = settings
        self.shards = shards
        self.rate_limits = ChannelRateLimits(settings.rate_limits)

    def shard(self, client_id: int) -> int:
        return shard_of(SENDER_KIND, str(client_id), self.shards)

    async def submit(self, message: OutboundMessage) -> Queued:
        """Stored, or :class:`routing.informing.templates.TemplateError` saying why not (nothing stored)."""
        chain = self.settings.chain_for(message.template, message.topic, message.chain)
        return await enqueue(self.db, message, self.shard(message.client_id), chain)

    async def event(self, event: str, client_id: int, fields: Mapping[str, Any],
                    occurred_at: datetime | None = None) -> list[Queued]:
        """An event of the ticket stream or another system: the messages its trigger rules set off, each
        stored (a second event of the same rule and client within the rule's period is the same message).
        A rule whose template does not fit the event's fields is a :class:`TemplateError`."""
        fired = fire(self.settings.triggers, event, client_id, fields, occurred_at or datetime.now(UTC))
        return [await self.submit(OutboundMessage(
            client_id=client_id, topic=t.rule.topic, template=t.rule.template, variables=t.values, origin="trigger",
            dedupe_key=t.dedupe_key, chain=t.rule.chain, not_before=t.not_before)) for t in fired]
