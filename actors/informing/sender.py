"""The client sender: the entity (one per client, sharded by client) that takes its client's claimed
outbox messages one at a time and walks each down its channel chain: render, check the contact policy,
submit, record.

Each host of kind ``sender`` claims its shard's due messages in batches (its host duty); the contact
policy's facts for a batch are loaded in one round trip.  A message is recorded ``submitting`` before
the channel is called and ``sent`` after, each only while this sender holds its lease: a crash between
the two leaves it ``submitting``, and the next claim sends it again under the same dedupe key.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from actors.informing.compose import outbound_for
from actors.runtime.entity import Entity
from channels.base import ChannelError
from crm_core.consent import policy_facts
from crm_core.message_templates import StoredTemplate, template_version
from crm_core.outbox import ClaimedMessage, claim, client_addresses, record_step
from routing.informing.config import ADDRESS_KIND, InformingSettings
from routing.informing.policy import ContactPolicy, Recipient
from routing.informing.templates import TemplateError, render
from routing.informing.unsubscribe import make_token

log = logging.getLogger(__name__)
MAX_IN_FLIGHT = 4
LEASE_LOST = "lease_lost"  # the message is no longer this sender's to record (claimed elsewhere, or held)


@dataclass(frozen=True, slots=True)
class Dispatch:
    """Claimed messages of one client, in the order to send them, with what the batch loaded for them."""

    messages: tuple[ClaimedMessage, ...]
    addresses: dict[str, str]
    segment: str
    policy: ContactPolicy


class ClientSender(Entity):
    kind: ClassVar[str] = "sender"
    idle_timeout_s: ClassVar[float] = 60.0

    async def receive(self, message: Any) -> Any:
        if isinstance(message, Dispatch):
            for claimed in message.messages:
                await self._send(claimed, message)
            return len(message.messages)
        raise TypeError(f"a client sender takes Dispatch, not {type(message).__name__}")

    @property
    def _settings(self) -> InformingSettings:
        return self.ctx.services.informing.settings

    async def _send(self, message: ClaimedMessage, batch: Dispatch) -> None:
        db = self.ctx.services.autocommit
        release = self._settings.release_at(message.topic, datetime.now(UTC))
        if release is not None:  # quiet hours: held in the outbox, claimed again when the window ends
            await record_step(db, message, "held", reason="quiet_hours", due_at=release)
            return
        template = await _template(db, message)
        reasons: list[str] = []
        refused = 0
        pos = message.chain_pos
        while pos < len(message.chain):
            channel = message.chain[pos]
            reason = await self._try(message, channel, pos, template, batch)
            if reason is None or reason is LEASE_LOST:
                return
            refused += reason in ("stop_list", "opted_out", "no_consent")
            reasons.append(f"{channel}: {reason}")
            if pos + 1 < len(message.chain) and not await record_step(
                    db, message, "fell_back", channel=channel, reason=reason, chain_pos=pos + 1, keep_lease=True):
                return
            pos += 1
        final = "refused" if refused == len(reasons) else ("failed" if reasons and "channel_error" in reasons[-1]
                                                           else "undeliverable")
        await record_step(db, message, final, reason="; ".join(reasons))

    async def _try(self, message: ClaimedMessage, channel: str, pos: int, template: StoredTemplate,
                   batch: Dispatch) -> str | None:
        """None when sent; else why this channel did not take the message."""
        address = batch.addresses.get(ADDRESS_KIND[channel])
        if address is None:
            return "no_address"
        verdict = batch.policy.decide(Recipient(message.client_id, batch.segment, ADDRESS_KIND[channel], address),
                                      channel, message.topic)
        if not verdict.allowed:
            return verdict.reason
        try:
            rendered = render(template.variables, template.bodies, channel, message.variables)
        except TemplateError as exc:
            return f"template: {exc}"
        db = self.ctx.services.autocommit
        wait = await self.ctx.services.informing.rate_limits.take(channel)
        if wait is not None:  # over the channel's rate: held, and this channel tried again when there is room
            await record_step(db, message, "held", channel=channel, chain_pos=pos, reason=f"rate_limit:{channel}",
                              due_at=datetime.now(UTC) + timedelta(seconds=wait))
            return LEASE_LOST
        if not await record_step(db, message, "submitting", channel=channel, chain_pos=pos,
                                 reason=verdict.reason, keep_lease=True):
            return LEASE_LOST
        settings = self._settings
        unsubscribe = (f"{settings.unsubscribe_url}/{make_token(settings.unsubscribe_secret, message.client_id, channel)}"
                       if settings.unsubscribe_url else None)
        outbound = outbound_for(message.id, channel, address, rendered, settings.sms_sender, unsubscribe)
        try:
            receipt = await self.ctx.services.channels.send(outbound)
        except ChannelError as exc:
            return f"channel_error: {exc}"
        # Anything else (the channel's process died, a timeout) leaves the message submitting, for the
        # next claim to send again under the same dedupe key.
        await record_step(db, message, "sent", channel=channel, external_id=receipt.external_id)
        return None

    @classmethod
    def host_duty(cls, host: Any) -> Any:
        return _claim_forever(host)


_templates: dict[tuple[str, str, int], StoredTemplate] = {}


async def _template(db: Any, message: ClaimedMessage) -> StoredTemplate:
    """A template version never changes once stored, so each is read once per process."""
    key = (message.template, message.language, message.template_version)
    template = _templates.get(key)
    if template is None:
        template = await template_version(db, *key)
        assert template is not None, key  # the outbox row's foreign key keeps its version
        _templates[key] = template
    return template


async def _claim_forever(host: Any) -> None:
    """Claim batch after batch without waiting for the earlier ones to be sent (up to ``MAX_IN_FLIGHT``
    batches at once): one slow send holds up no other client's messages."""
    settings: InformingSettings = host.services.informing.settings
    in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
    running: set[asyncio.Task[int]] = set()
    while True:
        await in_flight.acquire()
        try:
            claimed = await claim(host.services.autocommit, host.settings.shard, settings.claim_batch, settings.lease_s)
        except Exception:
            log.exception("sender shard %s: claiming due messages failed", host.settings.shard)
            claimed = []
        if not claimed:
            in_flight.release()
            await asyncio.sleep(settings.poll_s)
            continue
        task = asyncio.create_task(dispatch(host, settings, claimed))
        running.add(task)
        task.add_done_callback(lambda done: (running.discard(done), in_flight.release()))


async def dispatch(host: Any, settings: InformingSettings, claimed: list[ClaimedMessage]) -> int:
    """Hand each client's claimed messages to its sender, with the batch's contact policy facts."""
    db = host.services.autocommit
    by_client: dict[int, list[ClaimedMessage]] = defaultdict(list)
    for message in claimed:
        by_client[message.client_id].append(message)
    clients = list(by_client)
    addresses = await client_addresses(db, clients)
    consents, stops, segments = await policy_facts(
        db, clients, [value for found in addresses.values() for value in found.values()])
    policy = ContactPolicy(settings.topics, consents, stops)
    results = await asyncio.gather(*(
        host.ask(str(client), Dispatch(tuple(messages), addresses.get(client, {}), segments.get(client, ""), policy))
        for client, messages in by_client.items()), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            log.error("sender shard %s: a client's messages stay claimed until their lease ends (%r)",
                      host.settings.shard, result)
    return len(claimed)
