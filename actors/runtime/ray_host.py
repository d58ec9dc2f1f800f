"""The Ray actor that hosts one shard of one entity kind, or the shards of a host group.

Ray restarts a host that dies (``max_restarts=-1``) and re-sends the calls that were in flight
(``max_task_retries=-1``); the restarted host starts empty and its entities re-activate from the
database on their next message or reminder.  Messages are idempotent by design (dedupe keys), so a
re-sent call does no harm.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from actors.runtime.heap import settle_heap
from actors.runtime.host import EntityHost, HostSettings
from actors.runtime.logs import configure as configure_logs
from actors.runtime.outbox import EventOutbox
from actors.runtime.placement import Placement
from actors.runtime.system import ActorSystem, LocalTransport, RayTransport

log = logging.getLogger(__name__)


def load_symbol(path: str) -> Any:
    """``"package.module:Name"`` -> the object."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


class HostActor:
    """Body of the Ray actor of one process of hosts (one shard, or a host group's several);
    ``services_factory`` builds the services inside the process, shared by its hosts."""

    def __init__(self, hosted: Sequence[tuple[str, int, str]], shards: Mapping[str, int], namespace: str,
                 placement: Placement, services_factory: Callable[[ActorSystem], Any]) -> None:
        configure_logs()
        local = LocalTransport()
        self.system = ActorSystem(shards, RayTransport(namespace, placement, local))
        self.services = services_factory(self.system)
        self.outbox = EventOutbox(self.services.publish_events)  # one batch to the hub for all hosts here
        for kind, shard, entity_class in hosted:
            local.add(EntityHost(HostSettings(kind=kind, shard=shard, shards=shards[kind]), load_symbol(entity_class),
                                 self.system, self.services, self.services.reminders, outbox=self.outbox))
        self.hosts = local.hosts
        self._started = asyncio.get_event_loop().create_task(self._start())

    async def _start(self) -> None:
        for host in self.hosts.values():
            await host.start()
        self._flushing = asyncio.create_task(self.outbox.run(), name="events")
        settle_heap()

    async def ask(self, kind: str, shard: int, entity_id: str, message: Any) -> Any:
        return await self.hosts[(kind, shard)].ask(entity_id, message)

    async def tell_many(self, messages: list[tuple[str, int, str, Any]]) -> None:
        """Messages for entities of this process's hosts, each into its entity's mailbox in the order given."""
        hosts = self.hosts
        for kind, shard, entity_id, message in messages:
            hosts[(kind, shard)].tell(entity_id, message)

    async def describe(self, kind: str, shard: int) -> dict[str, Any]:
        return {**self.hosts[(kind, shard)].describe(), "pid": os.getpid(), "node": _node_id()}

    async def ping(self) -> int:
        return os.getpid()


def _node_id() -> str:
    import ray

    return ray.get_runtime_context().get_node_id()


def start_process(process: str, hosted: Sequence[tuple[str, int, str]], shards: Mapping[str, int],
                  namespace: str, placement: Placement, services_factory: Callable[[ActorSystem], Any],
                  **options: Any) -> Any:
    """Create (or find) the named Ray actor of one process of hosts (``hosted``: kind, shard, entity class).
    Processes are spread over the cluster's nodes (on one machine they all sit on its one node); one
    restarted after its node died goes elsewhere."""
    import ray

    actor = ray.remote(HostActor).options(
        name=process, namespace=namespace, get_if_exists=True, max_restarts=-1,
        max_task_retries=-1, max_concurrency=10_000, scheduling_strategy="SPREAD",
        # A token CPU share: with none at all Ray's SPREAD is uneven and may leave a node empty.
        num_cpus=0.001, **options)
    return actor.remote(list(hosted), dict(shards), namespace, placement, services_factory)
