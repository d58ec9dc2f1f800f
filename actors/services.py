"""What every host and the gateway reach the outside through: the database, the CRM core, the event
hub, the channels, the inbox, the SLA clock and the router.  Built in each process by the composition
root (:mod:`actors.system`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from actors import messages as m
from actors.runtime import ActorRef, ActorSystem
from actors.runtime.reminders import ReminderStore
from actors.settings import Settings
from channels.base import ChannelError, DeliveryReceipt, Inbound, Outbound, WebhookReply
from channels.serialization import inbound_to_json
from crm_core import driver_sql
from crm_core import tickets as ticket_store

log = logging.getLogger(__name__)

LIVE_CHANNELS = ("webchat", "web_form", "app")


class LocalCrm:
    """The CRM core queries run in this process (tests and the in-process engine); same interface as
    :class:`crm_core.pool.CrmPool`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def identify(self, kind: str, value: str) -> Any:
        from crm_core.identify import identify

        async with self.engine.connect() as conn:
            return await identify(conn, kind, value)

    async def client_card(self, client_id: int) -> Any:
        from crm_core.card import client_card

        async with self.engine.connect() as conn:
            return await client_card(conn, client_id)

    async def search(self, query: Any) -> Any:
        from crm_core.search import search

        async with self.engine.connect() as conn:
            return await search(conn, query)


class InboxWriter:
    """The sink of every channel: stores an inbound item durably, then hands it to its conversation.

    Storing is idempotent by ``dedupe_key``; the conversation is told after the commit, and an item whose
    host died before handling it is delivered again by :meth:`redeliver_pending`.
    """

    def __init__(self, engine: AsyncEngine, system: ActorSystem) -> None:
        self.engine = engine
        self.system = system

    async def store(self, inbound: Inbound) -> int | None:
        thread_key = await self._thread_of(inbound)
        payload = inbound_to_json(inbound)
        payload["thread_key"] = thread_key
        shard = self.system.shard(ActorRef("conversation", thread_key))
        async with self.engine.begin() as conn:
            inbox_id = await driver_sql.fetch_value(
                conn, "INSERT INTO inbox (dedupe_key, channel, thread_key, shard, payload) VALUES (%s, %s, %s, %s, %s)"
                      " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
                (inbound.dedupe_key, inbound.channel, thread_key, shard, driver_sql.Jsonb(payload)))
        if inbox_id is not None:
            self.system.tell(ActorRef("conversation", thread_key), m.InboxDelivery(inbox_id, payload))
        return inbox_id

    async def _thread_of(self, inbound: Inbound) -> str:
        """An e-mail whose headers lost the thread but whose subject names a ticket joins that ticket."""
        number = inbound.metadata.get("ticket_number") if inbound.channel == "email" else None
        if not number:
            return inbound.thread_key
        async with self.engine.connect() as conn:
            if await ticket_store.find_open_conversation(conn, inbound.thread_key) is not None:
                return inbound.thread_key
            thread = await ticket_store.open_thread_of_ticket(conn, str(number))
        return thread or inbound.thread_key

    async def redeliver_pending(self, shard: int, older_than_s: float, skip: list[int] | None = None,
                                limit: int = 100) -> int:
        """Hand again to their conversations the items of one shard stored but not handled in time;
        ``skip`` names the items still waiting in a mailbox (slow, not lost)."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT id, thread_key, payload FROM inbox WHERE shard = :shard AND processed_at IS NULL"
                " AND received_at < now() - make_interval(secs => :age) AND id <> ALL(:skip)"
                " ORDER BY id LIMIT :limit"),
                {"shard": shard, "age": older_than_s, "skip": skip or [], "limit": limit})).all()
        for inbox_id, thread_key, payload in rows:
            self.system.tell(ActorRef("conversation", thread_key), m.InboxDelivery(inbox_id, payload))
        return len(rows)


class RemoteChannel:
    """A channel actor seen from another process: the same calls as a local :class:`ChannelRunner`."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    async def send(self, outbound: Outbound) -> DeliveryReceipt:
        return await self.handle.send.remote(outbound)

    async def webhook(self, headers: dict[str, str], body: bytes) -> WebhookReply:
        return await self.handle.webhook.remote(headers, body)

    async def perform(self, action: str, kwargs: dict[str, Any]) -> Any:
        return await self.handle.perform.remote(action, kwargs)


class ChannelDirectory:
    """Sends outbound messages through the channels; live web channels go out on the event stream.
    ``resolve(name)`` gives the channel's runner (in this process) or a :class:`RemoteChannel`."""

    def __init__(self, resolve: Callable[[str], Any], publish: Callable[[list[dict[str, Any]]], Awaitable[Any]]) -> None:
        self.resolve = resolve
        self.publish = publish
        self.handles: dict[str, Any] = {}

    def _handle(self, channel: str) -> Any:
        handle = self.handles.get(channel)
        if handle is None:
            handle = self.resolve(channel)
            if handle is None:
                raise ChannelError(f"channel {channel} is not running")
            self.handles[channel] = handle
        return handle

    async def send(self, outbound: Outbound) -> DeliveryReceipt:
        if outbound.channel in LIVE_CHANNELS:
            await self.publish([{"type": "reply", "id": outbound.thread_key,
                                 "state": {"text": outbound.text, "dedupe_key": outbound.dedupe_key}}])
            return DeliveryReceipt(external_id=outbound.dedupe_key)
        return await self._handle(outbound.channel).send(outbound)

    async def webhook(self, channel: str, headers: dict[str, str], body: bytes) -> WebhookReply:
        return await self._handle(channel).webhook(headers, body)

    async def perform(self, channel: str, action: str, **kwargs: Any) -> Any:
        return await self._handle(channel).perform(action, kwargs)


class HubClient:
    """The event hub seen from any process: a Ray actor handle, or an :class:`EventHub` in this process."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.remote = hasattr(hub, "publish") and hasattr(hub.publish, "remote")

    async def publish(self, batch: list[dict[str, Any]]) -> int:
        return await (self.hub.publish.remote(batch) if self.remote else self.hub.publish(batch))

    async def snapshot(self) -> dict[str, Any]:
        return await (self.hub.get_snapshot.remote() if self.remote else self.hub.get_snapshot())

    async def events_after(self, seq: int, timeout_s: float = 15.0) -> dict[str, Any]:
        if self.remote:
            return await self.hub.events_after.remote(seq, timeout_s)
        return await self.hub.events_after(seq, timeout_s)


@dataclass
class Services:
    settings: Settings
    db: AsyncEngine
    system: ActorSystem
    crm: Any
    reminders: ReminderStore
    hub: HubClient
    channels: ChannelDirectory
    inbox: InboxWriter
    sla: Any
    router: Any
    chatbot: Any = None

    def publish_events(self, batch: list[dict[str, Any]]) -> Any:
        return self.hub.publish(batch)
