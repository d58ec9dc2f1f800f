"""The voice channel: one AMI connection to Asterisk/VICIdial, kept up, turned into call events.

``start(sink)`` connects, logs in and keeps the session alive (Ping every ``ping_interval_seconds``;
an unanswered ping counts as a dead PBX).  Any disconnect is followed by reconnects with exponential
backoff and, once back, a reconcile against CoreShowChannels/Status so that calls that started or
ended meanwhile are neither lost nor left dangling.  Call control for the engine:
:meth:`VoiceChannel.redirect` (route mode), :meth:`VoiceChannel.originate` (click-to-call) and
:meth:`VoiceChannel.recording_url`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from channels.base import (
    CallControl,
    Channel,
    ChannelError,
    DeliveryReceipt,
    Inbound,
    InboundSink,
    Outbound,
    utcnow,
)
from channels.voice.actions import composer
from channels.voice.call_book import recording_url_for
from channels.voice.codec import AmiFrameError, AmiMessage
from channels.voice.connection import AmiActionError, AmiActionTimeout, AmiConnection, AmiConnectionLost
from channels.voice.delivery import InboundDelivery
from channels.voice.phone import normalise_phone
from channels.voice.reconcile import live_channels, reconcile
from channels.voice.settings import VoiceSettings
from channels.voice.tracker import CallTracker
from channels.voice.vicidial_api import VicidialApi

log = logging.getLogger(__name__)


@dataclass(slots=True)
class AmiStats:
    """Counters of the channel's AMI life, for dashboards and tests."""

    sessions: int = 0
    events: int = 0
    skipped: int = 0
    bad_frames: int = 0
    handler_errors: int = 0
    reconciles: int = 0


class VoiceChannel(Channel, CallControl):
    name = "voice"

    def __init__(self, settings: VoiceSettings, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self._clock = clock
        self.tracker = CallTracker(settings, self._deliver, clock=clock)
        self.stats = AmiStats()
        self._api = VicidialApi(settings)
        self._delivery: InboundDelivery | None = None
        self._connection: AmiConnection | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._reconciled = asyncio.Event()

    # ------------------------------------------------------------ lifecycle

    async def start(self, sink: InboundSink) -> None:
        if self._supervisor is not None:
            raise ChannelError("voice channel already started")
        s = self.settings
        self._delivery = InboundDelivery(
            sink, retry_initial=s.delivery_retry_initial_seconds, retry_max=s.delivery_retry_max_seconds,
        )
        self._supervisor = asyncio.get_running_loop().create_task(self._stay_connected(), name="voice-ami")
        try:
            await asyncio.wait_for(self._reconciled.wait(), s.action_timeout_seconds)
        except TimeoutError:
            log.warning("AMI at %s:%s not reachable yet; the voice channel keeps trying", s.host, s.port)

    async def stop(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
            self._supervisor = None
        if self._connection is not None:
            self._connection.close()
        if self._delivery is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._delivery.drain(), self.settings.action_timeout_seconds)
            if self._delivery.backlog:
                log.error("voice channel stopped with %d call events not stored; live calls are re-sent by the "
                          "reconcile of the next start", self._delivery.backlog)
            await self._delivery.stop()
        await self._api.close()

    async def wait_connected(self, timeout: float) -> None:
        """Wait until a session is logged in and reconciled."""
        await asyncio.wait_for(self._reconciled.wait(), timeout)

    async def drain(self) -> None:
        """Wait until every call event produced so far is stored by the sink."""
        if self._delivery is not None:
            await self._delivery.drain()

    async def ping(self) -> None:
        """A round trip to the PBX (health check).  AMI answers in order on one stream, so when it
        returns every event the PBX sent before has been handled."""
        await self._checked({"Action": "Ping"})

    @property
    def events_received(self) -> int:
        """Every AMI event received so far: handled, plus skipped unparsed as of no interest."""
        live = self._connection.events_skipped if self._connection is not None else 0
        return self.stats.events + self.stats.skipped + live

    @property
    def connected(self) -> bool:
        return self._connection is not None and self._connection.is_open

    # ---------------------------------------------------------- engine API

    async def send(self, outbound: Outbound) -> DeliveryReceipt:
        raise ChannelError("voice calls have no text replies")

    async def redirect(self, call_id: str, extension: str) -> None:
        """Send the caller of ``call_id`` (a linkedid) to ``extension`` in the agent context."""
        call = self.tracker.call_for(call_id)
        if call is None or call.ended_at is not None:
            raise ChannelError(f"no live call {call_id!r} to redirect")
        fields = composer.redirect(call.caller_channel, extension, priority="1", context=self.settings.agent_context)
        await self._checked(fields)

    async def originate(self, extension: str, number: str, *, ticket_number: str | None) -> str:
        """Click-to-call: ring the agent's ``extension`` and dial ``number``; returns the new call's
        linkedid (its thread is ``voice:<linkedid>``).  Route mode, or observe mode without VICIdial's
        agent API: AMI Originate with a ChannelId we choose.  Observe mode with the agent API:
        VICIdial's external_dial, then the linkedid of the ``M`` call it places from that agent."""
        client = normalise_phone(number)
        if client is None:
            raise ChannelError(f"{number!r} is not a dialable phone number")
        if self.settings.mode == "observe" and self.settings.vicidial_agent_api_url:
            dialled = self.tracker.await_dial(client)
            try:
                await self._api.external_dial(extension, client[4:], phone_code=self.settings.vicidial_phone_code)
                return await asyncio.wait_for(asyncio.shield(dialled), self.settings.originate_timeout_seconds)
            except TimeoutError as exc:
                raise ChannelError(f"VICIdial accepted the dial for {extension} but no call appeared on AMI") from exc
            finally:
                dialled.cancel()
        call_id = f"sb-{uuid.uuid4().hex}"
        dial = "0" + client[4:] if self.settings.outbound_number_format == "national" else client
        fields = composer.originate(
            self.settings.agent_channel_template.format(extension=extension), dial,
            context=self.settings.outbound_context, priority="1",
            timeout=str(self.settings.originate_timeout_seconds * 1000),
            caller_id=self.settings.outbound_caller_id or f'"{client}" <{extension}>', run_async=True,
            variables={"SWITCHBOARD_TICKET": ticket_number} if ticket_number else {},
        )
        fields["ChannelId"] = call_id
        fields["OtherChannelId"] = f"{call_id}-2"
        self.tracker.expect_originated(call_id, client)
        await self._checked(fields)
        return call_id

    async def recording_url(self, call_id: str) -> str | None:
        """Where the call's recording plays from: the MixMonitor file seen on AMI, else VICIdial's
        recording_lookup (by lead, uniqueid and day)."""
        call = self.tracker.call_for(call_id)
        if call is not None and call.recording_files and self.settings.recording_url_template:
            return recording_url_for(self.settings.recording_url_template, call.recording_files[-1])
        if not self.settings.vicidial_non_agent_api_url:
            return None
        rows = await self._api.recording_lookup(
            lead_id=call.vicidial.lead_id if call is not None and call.vicidial is not None else None,
            uniqueid=call.caller_uniqueid if call is not None else call_id,
            date=call.started_at.date().isoformat() if call is not None else None,
        )
        return rows[-1].location if rows else None

    # ------------------------------------------------------------ internals

    async def _checked(self, fields: dict) -> AmiMessage:
        connection = self._connection
        if connection is None or not connection.is_open:
            raise ChannelError("AMI is not connected")
        try:
            return await connection.checked_action(fields)
        except (AmiActionError, AmiActionTimeout, AmiConnectionLost) as exc:
            raise ChannelError(str(exc)) from exc

    def _deliver(self, item: Inbound) -> None:
        assert self._delivery is not None
        self._delivery.put(item)

    def _on_event(self, message: AmiMessage) -> None:
        self.stats.events += 1
        try:
            self.tracker.handle(message)
        except Exception:  # noqa: BLE001 - one odd event must not stop the stream
            self.stats.handler_errors += 1
            log.exception("AMI event not understood; raw bytes %r", message.raw[:4096])

    def _on_bad_frame(self, frame: AmiFrameError) -> None:
        self.stats.bad_frames += 1
        log.warning("AMI frame rejected (%s); raw bytes %r", frame.reason, frame.raw)

    async def _stay_connected(self) -> None:
        s = self.settings
        delay = s.reconnect_initial_seconds
        while True:
            connection = AmiConnection(
                s.host, s.port, on_event=self._on_event, on_bad_frame=self._on_bad_frame,
                action_timeout=s.action_timeout_seconds, max_frame=s.max_frame_bytes, wanted=self.tracker.wants,
            )
            try:
                await connection.open(s.username, s.secret, timeout=s.action_timeout_seconds)
                self._connection = connection
                self.stats.sessions += 1
                log.info("AMI session %d with %s:%s (%s)", self.stats.sessions, s.host, s.port, connection.greeting)
                await self._reconcile(connection)
                delay = s.reconnect_initial_seconds
                self._reconciled.set()
                reason = await self._keep_alive(connection)
            except ChannelError as exc:
                reason = exc
            except Exception as exc:  # noqa: BLE001 - whatever went wrong, the channel reconnects
                log.exception("AMI session failed unexpectedly")
                reason = exc
            finally:
                connection.close()
                self.stats.skipped += connection.events_skipped
                self._connection = None
                self._reconciled.clear()
            pause = delay * random.uniform(0.8, 1.2)
            log.warning("AMI session with %s:%s ended (%s); reconnecting in %.2fs", s.host, s.port, reason, pause)
            await asyncio.sleep(pause)
            delay = min(delay * 2, s.reconnect_max_seconds)

    async def _keep_alive(self, connection: AmiConnection) -> BaseException:
        closed = asyncio.ensure_future(connection.wait_closed())
        try:
            while True:
                done, _ = await asyncio.wait({closed}, timeout=self.settings.ping_interval_seconds)
                if done:
                    return closed.result()
                try:
                    await connection.action({"Action": "Ping"}, timeout=self.settings.ping_timeout_seconds)
                except AmiActionTimeout as exc:
                    return AmiConnectionLost(f"PBX stopped answering pings: {exc}")
        finally:
            closed.cancel()

    async def _reconcile(self, connection: AmiConnection) -> None:
        known_before = set(self.tracker.calls)
        known_channels = self.tracker.channel_calls()
        core = await connection.event_list(composer.core_show_channels())
        try:
            status = await connection.event_list(composer.status_all())
        except AmiActionError as exc:
            log.info("AMI Status not available (%s); reconciling from CoreShowChannels alone", exc)
            status = []
        reconcile(self.tracker, live_channels(core, status, known_channels), known_before, self._clock())
        self.stats.reconciles += 1
