"""Stop replies recorded as consent, as the inbox stores them (before the channel acknowledges them)."""

from __future__ import annotations

import logging

from channels.base import Inbound
from crm_core.consent import opt_out_by_contact
from crm_core.driver_sql import Source
from routing.informing.stop_replies import stop_request

log = logging.getLogger(__name__)


class StopReplies:
    def __init__(self, db: Source) -> None:
        self.db = db

    async def notice(self, inbound: Inbound) -> None:
        request = stop_request(inbound.channel, inbound.kind, inbound.sender.kind, inbound.sender.value,
                               inbound.text, dict(inbound.metadata))
        if request is None:
            return
        added = await opt_out_by_contact(self.db, request.contact_kind, request.contact, request.channel,
                                         request.source, f"inbox:{inbound.dedupe_key}")
        log.info("%s from %s: %d opt-out(s) recorded", request.source, request.channel, added)
