"""The Ray actor that hosts one shard of one entity kind.

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
from collections.abc import Callable, Mapping
from typing import Any

from actors.runtime.heap import settle_heap
from actors.runtime.host import EntityHost, HostSettings
from actors.runtime.ref import host_name
from actors.runtime.system import ActorSystem, LocalTransport, RayTransport

log = logging.getLogger(__name__)


def load_symbol(path: str) -> Any:
    """``"package.module:Name"`` -> the object."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


class HostActor:
    """Body of the Ray actor; ``services_factory`` builds the host's services inside its own process."""

    def __init__(self, settings: HostSettings, entity_class: str, shards: Mapping[str, int], namespace: str,
                 services_factory: Callable[[ActorSystem], Any]) -> None:
        local = LocalTransport()
        self.system = ActorSystem(shards, RayTransport(namespace, local))
        self.services = services_factory(self.system)
        self.host = EntityHost(settings, load_symbol(entity_class), self.system, self.services,
                               self.services.reminders, publish=self.services.publish_events)
        local.add(self.host)
        self._started = asyncio.get_event_loop().create_task(self._start())

    async def _start(self) -> None:
        await self.host.start()
        settle_heap()

    async def ask(self, entity_id: str, message: Any) -> Any:
        return await self.host.ask(entity_id, message)

    async def tell_many(self, messages: list[tuple[str, Any]]) -> None:
        """Messages for entities of this host, each into its entity's mailbox in the order given."""
        for entity_id, message in messages:
            self.host.tell(entity_id, message)

    async def describe(self) -> dict[str, Any]:
        return {**self.host.describe(), "pid": os.getpid(), "node": _node_id()}

    async def ping(self) -> int:
        return os.getpid()


def _node_id() -> str:
    import ray

    return ray.get_runtime_context().get_node_id()


def start_host(kind: str, shard: int, entity_class: str, shards: Mapping[str, int], namespace: str,
               services_factory: Callable[[ActorSystem], Any], **options: Any) -> Any:
    """Create (or find) the named Ray actor of one host.  Hosts are spread over the cluster's nodes
    (on one machine they all sit on its one node); a host restarted after its node died goes elsewhere."""
    import ray

    settings = HostSettings(kind=kind, shard=shard, shards=shards[kind])
    actor = ray.remote(HostActor).options(
        name=host_name(kind, shard), namespace=namespace, get_if_exists=True, max_restarts=-1,
        max_task_retries=-1, max_concurrency=10_000, scheduling_strategy="SPREAD",
        # A token CPU share: with none at all Ray's SPREAD is uneven and may leave a node empty.
        num_cpus=0.001, **options)
    return actor.remote(settings, entity_class, dict(shards), namespace, services_factory)
