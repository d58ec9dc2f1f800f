"""One long-lived Ray actor per channel account: it runs the channel (AMI connection, Telegram poller,
IMAP mailbox, Viber webhook) and stores what arrives through the inbox before the channel acknowledges
it to its peer."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from channels.base import Channel, ChannelError, DeliveryReceipt, Outbound, WebhookChannel, WebhookReply

log = logging.getLogger(__name__)


def build_channel(name: str, settings: Mapping[str, Any]) -> Channel:
    """Each channel package exports ``build(settings) -> Channel``."""
    return importlib.import_module(f"channels.{name}").build(settings)


class ChannelActor:
    def __init__(self, name: str, settings: Mapping[str, Any], services_factory: Callable[[], Any]) -> None:
        self.name = name
        self.services = services_factory()
        self.channel = build_channel(name, settings)
        self.started = False

    async def start(self) -> bool:
        if not self.started:
            await self.channel.start(self.services.inbox.store)
            self.started = True
        return True

    async def send(self, outbound: Outbound) -> DeliveryReceipt:
        await self.start()
        return await self.channel.send(outbound)

    async def webhook(self, headers: dict[str, str], body: bytes) -> WebhookReply:
        await self.start()
        if not isinstance(self.channel, WebhookChannel):
            raise ChannelError(f"channel {self.name} takes no webhooks")
        reply = self.channel.handle_webhook(headers, body)
        for inbound in reply.inbounds:
            await self.services.inbox.store(inbound)
        return reply

    async def perform(self, action: str, kwargs: dict[str, Any]) -> Any:
        await self.start()
        method = getattr(self.channel, action, None)
        if method is None or action.startswith("_") or action in ("start", "stop", "send"):
            raise ChannelError(f"channel {self.name} has no action {action!r}")
        return await method(**kwargs)

    async def stop(self) -> None:
        await self.channel.stop()


def start_channel_actor(name: str, settings: Mapping[str, Any], factory: Any, namespace: str) -> Any:
    import ray

    from actors.system import channel_actor_name

    return ray.remote(ChannelActor).options(
        name=channel_actor_name(name), namespace=namespace, get_if_exists=True, num_cpus=0, max_restarts=-1,
        max_task_retries=-1, max_concurrency=1_000).remote(name, dict(settings), factory)
