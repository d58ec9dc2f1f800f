"""One long-lived Ray actor per channel account: it runs the channel (AMI connection, Telegram poller,
IMAP mailbox, Viber webhook) and stores what arrives through the inbox's intake before the channel
acknowledges it to its peer; what the store keeps refusing, or the channel cannot read, is parked."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from actors.informing.deliveries import DeliveryRecorder
from actors.runtime.heap import settle_heap
from actors.runtime.logs import configure as configure_logs
from channels.base import (
    CallControl,
    Channel,
    ChannelError,
    DeliveryReceipt,
    DeliveryReporting,
    DeliverySink,
    Outbound,
    ParkedReplay,
    UnreadableItem,
    WebhookChannel,
    WebhookRejected,
    WebhookReply,
)

log = logging.getLogger(__name__)
SENDS_REMEMBERED = 20_000


def build_channel(name: str, settings: Mapping[str, Any]) -> Channel:
    """Each channel package exports ``build(settings) -> Channel``."""
    return importlib.import_module(f"channels.{name}").build(settings)


class ChannelRunner:
    """Runs one channel: starts it against the inbox, sends through it, passes webhooks to it."""

    def __init__(self, name: str, settings: Mapping[str, Any], inbox: Any, deliveries: DeliverySink | None = None) -> None:
        """``deliveries`` records what a channel with the delivery-reporting role reports later."""
        self.name = name
        self.inbox = inbox
        self.channel = build_channel(name, settings)
        self.channel.parking = inbox.intake.park_unreadable
        self.deliveries = deliveries
        self._sends: OrderedDict[str, asyncio.Future[DeliveryReceipt]] = OrderedDict()
        if isinstance(self.channel, DeliveryReporting) and deliveries is not None:
            self.channel.report_deliveries(deliveries)
        self.started = asyncio.Event()
        self._starting: asyncio.Task[None] | None = None

    async def start(self) -> bool:
        """Start the channel in the background; a peer that cannot be reached yet is tried again with
        backoff, and the engine runs on meanwhile.  Returns whether the channel is up now."""
        if self._starting is None:
            self._starting = asyncio.create_task(self._keep_starting())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.started.wait()), 5.0)
        return self.started.is_set()

    async def _keep_starting(self) -> None:
        delay = 1.0
        attempt = 0
        while True:
            attempt += 1
            try:
                await self.channel.start(self.inbox.intake.sink)
            except Exception as exc:
                log.error("channel %s did not start, attempt %d (%s: %s); trying again in %.0f s", self.name, attempt,
                          type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            else:
                self.started.set()
                return

    async def _running(self) -> None:
        await self.start()
        if not self.started.is_set():
            raise ChannelError(f"channel {self.name} is not connected yet")

    async def send(self, outbound: Outbound) -> DeliveryReceipt:
        """Sent once per dedupe key while this process lives: a send repeated by a sender that died before
        it recorded the first (or sent while the first is still under way) gets the first one's receipt."""
        known = self._sends.get(outbound.dedupe_key)
        if known is not None:
            return await asyncio.shield(known)
        await self._running()
        sending = asyncio.ensure_future(self.channel.send(outbound))
        self._sends[outbound.dedupe_key] = sending
        while len(self._sends) > SENDS_REMEMBERED:
            self._sends.popitem(last=False)
        try:
            return await asyncio.shield(sending)
        except Exception:
            if self._sends.get(outbound.dedupe_key) is sending:
                del self._sends[outbound.dedupe_key]  # refused or failed: a retry tries again
            raise

    async def webhook(self, headers: dict[str, str], body: bytes) -> WebhookReply:
        if not isinstance(self.channel, WebhookChannel):
            raise ChannelError(f"channel {self.name} takes no webhooks")
        try:
            reply = self.channel.handle_webhook(headers, body)
            inbounds = [await self.channel.download_attachments(inbound) for inbound in reply.inbounds]
        except WebhookRejected:
            raise
        except Exception as exc:  # noqa: BLE001 - a body the handler chokes on: the peer would resend it for ever
            await self.inbox.intake.park_unreadable(UnreadableItem(
                self.channel.name, f"webhook:{hashlib.sha256(body).hexdigest()}", body,
                f"{type(exc).__name__}: {exc}", 1))
            return WebhookReply()
        for inbound in inbounds:
            await self.inbox.intake.take(inbound)
        return reply

    async def read_again(self, raw: bytes) -> None:
        """Read a parked item again through the channel's parked-replay role."""
        if not isinstance(self.channel, ParkedReplay):
            raise ChannelError(f"channel {self.name} cannot read a parked item again")
        await self.channel.read_again(raw)

    def call_control(self) -> CallControl:
        """The channel's call control, once it is connected (:class:`RunningCallControl`)."""
        if not isinstance(self.channel, CallControl):
            raise ChannelError(f"channel {self.name} controls no calls")
        return RunningCallControl(self, self.channel)

    # The call control role as methods of the runner: what a Ray actor handle of the channel exposes.

    async def originate(self, extension: str, number: str, *, ticket_number: str | None) -> str:
        return await self.call_control().originate(extension, number, ticket_number=ticket_number)

    async def redirect(self, call_id: str, extension: str) -> None:
        await self.call_control().redirect(call_id, extension)

    async def recording_url(self, call_id: str) -> str | None:
        return await self.call_control().recording_url(call_id)

    async def ping(self) -> None:
        await self.call_control().ping()

    async def stop(self) -> None:
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        if self.started.is_set():
            await self.channel.stop()


class RunningCallControl(CallControl):
    """A channel's call control that waits for (or refuses before) the channel's connection."""

    def __init__(self, runner: ChannelRunner, control: CallControl) -> None:
        self.runner = runner
        self.control = control

    async def originate(self, extension: str, number: str, *, ticket_number: str | None) -> str:
        await self.runner._running()
        return await self.control.originate(extension, number, ticket_number=ticket_number)

    async def redirect(self, call_id: str, extension: str) -> None:
        await self.runner._running()
        await self.control.redirect(call_id, extension)

    async def recording_url(self, call_id: str) -> str | None:
        await self.runner._running()
        return await self.control.recording_url(call_id)

    async def ping(self) -> None:
        await self.runner._running()
        await self.control.ping()


class ChannelActor(ChannelRunner):
    """The Ray actor of one channel account; its services are built in its own process."""

    def __init__(self, name: str, settings: Mapping[str, Any], services_factory: Callable[[], Any]) -> None:
        configure_logs()
        self.services = services_factory()
        super().__init__(name, settings, self.services.inbox, DeliveryRecorder(self.services.autocommit))
        # Also after Ray restarts the actor: the channel reconnects to its peer by itself.
        self._first_start = asyncio.get_event_loop().create_task(self._first_run())

    async def _first_run(self) -> None:
        await self.start()
        settle_heap()


def start_channel_actor(name: str, settings: Mapping[str, Any], factory: Any, namespace: str) -> Any:
    import ray

    from actors.system import channel_actor_name

    return ray.remote(ChannelActor).options(
        name=channel_actor_name(name), namespace=namespace, get_if_exists=True, num_cpus=0, max_restarts=-1,
        max_task_retries=-1, max_concurrency=1_000).remote(name, dict(settings), factory)
