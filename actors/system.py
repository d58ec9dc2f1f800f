"""The composition root: the one place that knows every part and starts them.

``LocalEngine`` runs every host in this process on a local transport (tests, tools); ``RayEngine`` starts
the event hub, the CRM pool, one Ray actor per host shard or host group, the channel actors and the dashboard gateway,
on one machine or on a Ray cluster.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actors.billing_feed import BillingFollower, billing_settings
from actors.channel_actor import ChannelRunner
from actors.chatbot_front import ChatbotFront, load_chatbot
from actors.event_hub import EventHub
from actors.inbox import InboxWriter
from actors.informing.deliveries import DeliveryRecorder
from actors.informing.settings import load_informing
from actors.informing.stop_replies import StopReplies
from actors.informing.writer import SENDER_KIND, OutboxWriter
from actors.runtime import ActorSystem
from actors.runtime.host import EntityHost, HostSettings
from actors.runtime.ray_host import load_symbol, start_process
from actors.runtime.reminders import PgReminderStore
from actors.runtime.system import RayTransport
from actors.services import ChannelDirectory, HubClient, LocalCrm, RemoteChannel, Services
from actors.settings import Settings
from actors.staffing import StaffingAnswers
from crm_core.database import async_engine, migrate, resolve_url
from crm_core.driver_sql import AutocommitPool
from crm_core.roles import engine_url

log = logging.getLogger(__name__)

ENTITY_CLASSES = {
    "conversation": "actors.conversation:ConversationActor",
    "agent": "actors.agent:AgentActor",
    "queue": "actors.queue:QueueActor",
    "sender": "actors.informing.sender:ClientSender",
}
HUB_NAME = "event-hub"
AUTOCOMMIT_CONNECTIONS = 8


def channel_actor_name(channel: str) -> str:
    return f"channel:{channel}"


def _services(settings: Settings, database_url: str, system: ActorSystem, hub: HubClient, crm: Any,
              channel_handle: Callable[[str], Any], pool_size: int) -> Services:
    engine = async_engine(database_url, pool_size=pool_size)
    # A process's entities share its pools (in one process, every host's), so they may grow to
    # AUTOCOMMIT_CONNECTIONS each; they open one connection and grow only while statements wait.
    autocommit = AutocommitPool(engine, connections=AUTOCOMMIT_CONNECTIONS)
    return Services(settings=settings, db=engine, system=system, crm=crm, reminders=PgReminderStore(autocommit),
                    hub=hub, channels=ChannelDirectory(channel_handle, hub.publish),
                    inbox=InboxWriter(engine, system, autocommit, StopReplies(autocommit)), sla=settings.sla, router=settings.routing,
                    staffing=StaffingAnswers(system), autocommit=autocommit,
                    inbound_writes=AutocommitPool(engine, connections=AUTOCOMMIT_CONNECTIONS, relaxed=True), chatbot=_chatbot(settings),
                    informing=OutboxWriter(autocommit, load_informing(settings.config_dir),
                                           settings.engine.shards[SENDER_KIND]))


def _chatbot(settings: Settings) -> ChatbotFront | None:
    menu = load_chatbot(settings.config_dir)
    return ChatbotFront(menu) if menu is not None else None


@dataclass(frozen=True)
class RayServicesFactory:
    """Builds the services inside a Ray worker process (hosts, channel actors, the gateway)."""

    config_dir: str
    database_url: str
    namespace: str
    crm_workers: int
    channels: tuple[str, ...]
    pool_size: int = 5

    def __call__(self, system: ActorSystem | None = None) -> Services:
        import ray

        from crm_core.pool import CrmPool

        settings = Settings.load(self.config_dir)
        system = system or self.system()
        hub = HubClient(ray.get_actor(HUB_NAME, namespace=self.namespace))
        namespace = self.namespace

        def channel_handle(name: str) -> Any:
            if name not in self.channels:
                return None
            return RemoteChannel(ray.get_actor(channel_actor_name(name), namespace=namespace))

        crm = CrmPool.connect(self.crm_workers, namespace=self.namespace)
        return _services(settings, self.database_url, system, hub, crm, channel_handle, self.pool_size)

    def system(self) -> ActorSystem:
        engine = Settings.load(self.config_dir).engine
        return ActorSystem(engine.shards, RayTransport(self.namespace, engine.placement))


class LocalEngine:
    """Every host in this process: for tests and tools.  Real PostgreSQL, no Ray."""

    def __init__(self, database_url: str | None = None, config_dir: Path | str | None = None,
                 channels: dict[str, dict[str, Any]] | None = None) -> None:
        self.settings = Settings.load(config_dir)
        self.database_url = database_url or resolve_url()
        self.hub = EventHub()
        self.hosts: list[EntityHost] = []
        self.channel_tables = channels or {}
        self.channels: dict[str, ChannelRunner] = {}

    async def start(self) -> Services:
        system = ActorSystem(self.settings.engine.shards)
        hub = HubClient(self.hub)
        self.services = _services(self.settings, self.database_url, system, hub, None, self.channels.get,
                                  pool_size=10)
        self.services.crm = LocalCrm(self.services.db)
        for kind, path in ENTITY_CLASSES.items():
            for shard in range(self.settings.engine.shards[kind]):
                host = EntityHost(HostSettings(kind, shard, self.settings.engine.shards[kind]), load_symbol(path),
                                  system, self.services, self.services.reminders, self.services.publish_events)
                system.transport.add(host)
                await host.start()
                self.hosts.append(host)
        for name, table in self.channel_tables.items():
            self.channels[name] = ChannelRunner(name, table, self.services.inbox,
                                                DeliveryRecorder(self.services.autocommit))
            await self.channels[name].start()
        return self.services

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop channels and hosts, then close the pools, each step given ``grace_s`` (a part stuck
        waiting is left behind with a log line rather than holding the shutdown)."""
        for part in [*self.channels.values(), *self.hosts]:
            await _within(part.stop(), grace_s, repr(part))
        services = self.services
        for name, closing in (("inbox", services.inbox.close()), ("autocommit pool", services.autocommit.close()),
                              ("inbound pool", services.inbound_writes.close()), ("database", services.db.dispose())):
            await _within(closing, grace_s, name)


async def _within(step: Any, grace_s: float, what: str) -> None:
    """``step`` for at most ``grace_s``; then cancelled and left behind (``asyncio.wait_for`` would wait
    for the cancellation to be honoured, however long that takes)."""
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait([task], timeout=grace_s)
    if not done:
        task.cancel()
        log.warning("%s did not stop within %.0f s; leaving it", what, grace_s)
    elif task.exception() is not None:
        log.warning("%s did not stop cleanly: %s", what, task.exception())


class RayEngine:
    """The engine on Ray: hub, CRM pool, hosts, channel actors and gateway as Ray actors."""

    def __init__(self, config_dir: Path | str | None = None, database_url: str | None = None) -> None:
        self.settings = Settings.load(config_dir)
        self.database_url = database_url or resolve_url(self.settings.engine.data_dir)
        self.namespace = self.settings.engine.namespace
        self.channel_actors: dict[str, Any] = {}
        self.gateway: Any = None

    def start(self, channels: dict[str, dict[str, Any]] | None = None, gateway: bool = True,
              log_to_driver: bool = True) -> str | None:
        """Start every actor; returns the dashboard URL when the gateway runs.  Joins the Ray cluster
        this process is connected to, or starts a local one (``log_to_driver=False`` keeps the actors'
        logs in Ray's log files instead of this console)."""
        import ray

        from crm_core.pool import CrmPool

        migrate(self.database_url)  # as the owner; the engine itself runs as a role that cannot alter the audit log
        self.database_url = engine_url(self.database_url)
        if not ray.is_initialized():
            ray.init(namespace=self.namespace, include_dashboard=False, logging_level="WARNING",
                     log_to_driver=log_to_driver,
                     runtime_env={"env_vars": {"DATABASE_URL": self.database_url}})
        engine = self.settings.engine
        self.hub = ray.remote(EventHub).options(name=HUB_NAME, namespace=self.namespace, get_if_exists=True,
                                                num_cpus=0, max_restarts=-1, max_concurrency=10_000).remote()
        self.crm = CrmPool.start(engine.crm_workers, self.database_url, namespace=self.namespace)
        channels = channels if channels is not None else dict(self.settings.channels)
        channels = {name: table for name, table in channels.items() if table.get("enabled", True)}
        self.factory = RayServicesFactory(str(self.settings.config_dir), self.database_url, self.namespace,
                                          engine.crm_workers, tuple(channels))
        from actors.channel_actor import start_channel_actor

        for name, table in channels.items():
            self.channel_actors[name] = start_channel_actor(name, table, self.factory, self.namespace)
        placement = engine.placement
        self.hosts = [start_process(process, [(kind, shard, ENTITY_CLASSES[kind]) for kind, shard in hosted],
                                    engine.shards, self.namespace, placement, self.factory)
                      for process, hosted in placement]
        ray.get([h.ping.remote() for h in self.hosts])
        billing = billing_settings(self.settings.config_dir)
        if billing is not None:  # keeps the CRM's copy of billing current (a Ray restart goes on by itself)
            self.billing = ray.remote(BillingFollower).options(
                name="billing-follower", namespace=self.namespace, get_if_exists=True, num_cpus=0,
                max_restarts=-1).remote(self.database_url, billing)
        url = None
        if gateway:  # before the channels wait: a webhook channel registers with the peer through it
            from dashboards.gateway import GatewayActor, free_port

            http = self.settings.http
            port = http.port or free_port(http.host)  # one port for the gateway and every restart of it
            self.gateway = ray.remote(GatewayActor).options(
                name="gateway", namespace=self.namespace, get_if_exists=True, num_cpus=0, max_restarts=-1,
                max_concurrency=10_000).remote(self.factory, port)
            url = ray.get(self.gateway.start.remote())
        ray.get([a.start.remote() for a in self.channel_actors.values()])
        return url

    def client_services(self) -> Services:
        """Services for this (driver) process: talks to the hosts over Ray."""
        return self.factory()

    def stop(self) -> None:
        import ray

        ray.shutdown()
