"""What every host and the gateway reach the outside through: the database, the CRM core, the event
hub, the channels, the inbox, the SLA clock and the router.  Built in each process by the composition
root (:mod:`actors.system`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from actors.inbox import InboxWriter
from actors.runtime import ActorSystem
from actors.runtime.reminders import ReminderStore
from actors.settings import Settings
from actors.staffing import StaffingAnswers
from channels.base import CallControl, ChannelError, DeliveryReceipt, Outbound, WebhookReply
from crm_core.driver_sql import AutocommitPool

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

    async def identify_with_card(self, kind: str, value: str) -> Any:
        from crm_core.identify import identify_with_card

        async with self.engine.connect() as conn:
            return await identify_with_card(conn, kind, value)

    async def client_card(self, client_id: int) -> Any:
        from crm_core.card import client_card

        async with self.engine.connect() as conn:
            return await client_card(conn, client_id)

    async def search(self, query: Any) -> Any:
        from crm_core.search import search

        async with self.engine.connect() as conn:
            return await search(conn, query)


class RemoteChannel:
    """A channel actor seen from another process: the same calls as a local :class:`ChannelRunner`."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    async def send(self, outbound: Outbound) -> DeliveryReceipt:
        return await self.handle.send.remote(outbound)

    async def webhook(self, headers: dict[str, str], body: bytes) -> WebhookReply:
        return await self.handle.webhook.remote(headers, body)

    async def read_again(self, raw: bytes) -> None:
        await self.handle.read_again.remote(raw)

    def call_control(self) -> CallControl:
        return RemoteCallControl(self.handle)


class RemoteCallControl(CallControl):
    """A channel actor's call control seen from another process (the runner's typed methods)."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    async def originate(self, extension: str, number: str, *, ticket_number: str | None) -> str:
        return await self.handle.originate.remote(extension, number, ticket_number=ticket_number)

    async def redirect(self, call_id: str, extension: str) -> None:
        await self.handle.redirect.remote(call_id, extension)

    async def recording_url(self, call_id: str) -> str | None:
        return await self.handle.recording_url.remote(call_id)

    async def ping(self) -> None:
        await self.handle.ping.remote()


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

    async def read_again(self, channel: str, raw: bytes) -> None:
        """A parked item read again by its channel (its parked-replay role)."""
        await self._handle(channel).read_again(raw)

    def call_control(self, channel: str = "voice") -> CallControl:
        """The call control role of a running channel; :class:`ChannelError` when it is not running or
        controls no calls."""
        return self._handle(channel).call_control()


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
    staffing: StaffingAnswers
    autocommit: AutocommitPool
    #: What an inbound item joining a ticket writes, in one statement (rebuilt from the inbox if a crash
    #: of the server loses it, so it does not wait for the WAL flush).
    inbound_writes: AutocommitPool
    chatbot: Any = None
    #: The informing service's outbox writer (:class:`actors.informing.writer.OutboxWriter`).
    informing: Any = None

    def publish_events(self, batch: list[dict[str, Any]]) -> Any:
        return self.hub.publish(batch)
