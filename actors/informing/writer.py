"""Where every outbound message to a client enters: stored in the outbox (once per dedupe key) on the
shard of its client's sender, with its channel chain, before the caller hears it was accepted."""

from __future__ import annotations

from actors.runtime.ref import shard_of
from crm_core.driver_sql import Source
from crm_core.outbox import OutboundMessage, Queued, enqueue
from routing.informing.config import InformingSettings

SENDER_KIND = "sender"


class OutboxWriter:
    def __init__(self, db: Source, settings: InformingSettings, shards: int) -> None:
        self.db = db
        self.settings = settings
        self.shards = shards

    def shard(self, client_id: int) -> int:
        return shard_of(SENDER_KIND, str(client_id), self.shards)

    async def submit(self, message: OutboundMessage) -> Queued:
        """Stored, or :class:`routing.informing.templates.TemplateError` saying why not (nothing stored)."""
        chain = self.settings.chain_for(message.template, message.topic, message.chain)
        return await enqueue(self.db, message, self.shard(message.client_id), chain)
