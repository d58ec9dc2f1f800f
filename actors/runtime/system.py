"""The actor system: resolves an ``ActorRef`` to the host of its shard and delivers messages there.

Two transports stand behind one interface: :class:`LocalTransport` (every host in this process: unit
tests, and the shortcut a Ray host process takes for its own shards) and :class:`RayTransport` (hosts live in
named Ray actors, a process each or several shards in one process as :mod:`actors.runtime.placement` says,
looked up once and cached; placement across nodes is Ray's).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from actors.runtime.ref import ActorRef, shard_of

if TYPE_CHECKING:
    from actors.runtime.host import EntityHost
    from actors.runtime.placement import Placement

log = logging.getLogger(__name__)


class Transport(Protocol):
    async def ask(self, kind: str, shard: int, entity_id: str, message: Any, timeout_s: float) -> Any: ...

    def tell(self, kind: str, shard: int, entity_id: str, message: Any) -> None: ...

    async def describe(self, kind: str, shard: int) -> dict[str, Any]: ...


class ActorSystem:
    """Addresses entities by ``ActorRef`` and delivers messages to them, wherever their host runs."""

    def __init__(self, shards: Mapping[str, int], transport: Transport | None = None) -> None:
        self.shards = dict(shards)
        self.transport: Transport = transport or LocalTransport()

    def shard(self, ref: ActorRef) -> int:
        return shard_of(ref.kind, ref.id, self.shards[ref.kind])

    def tell(self, ref: ActorRef, message: Any) -> None:
        self.transport.tell(ref.kind, self.shard(ref), ref.id, message)

    async def ask(self, ref: ActorRef, message: Any, timeout_s: float = 30.0) -> Any:
        return await self.transport.ask(ref.kind, self.shard(ref), ref.id, message, timeout_s)

    async def describe(self) -> list[dict[str, Any]]:
        """The actor view: every host with its live entities."""
        calls = [self.transport.describe(kind, shard) for kind, count in self.shards.items()
                 for shard in range(count)]
        return list(await asyncio.gather(*calls))


class LocalTransport:
    """Hosts in this process, keyed by (kind, shard)."""

    def __init__(self) -> None:
        self.hosts: dict[tuple[str, int], EntityHost] = {}

    def add(self, host: EntityHost) -> None:
        self.hosts[(host.settings.kind, host.settings.shard)] = host

    async def ask(self, kind: str, shard: int, entity_id: str, message: Any, timeout_s: float) -> Any:
        return await asyncio.wait_for(self.hosts[(kind, shard)].ask(entity_id, message), timeout_s)

    def tell(self, kind: str, shard: int, entity_id: str, message: Any) -> None:
        self.hosts[(kind, shard)].tell(entity_id, message)

    async def describe(self, kind: str, shard: int) -> dict[str, Any]:
        return self.hosts[(kind, shard)].describe()


class RayTransport:
    """Hosts live in named Ray actors in ``namespace``, one process per entry of ``placement`` (a process
    may hold several shards); hosts in this process are reached directly."""

    def __init__(self, namespace: str, placement: Placement, local: LocalTransport | None = None) -> None:
        self.namespace = namespace
        self.local = local or LocalTransport()
        self._process_of = placement.process_of()
        self._handles: dict[str, Any] = {}
        self._outgoing: dict[str, list[tuple[str, int, str, Any]]] = {}

    def _handle(self, process: str) -> Any:
        handle = self._handles.get(process)
        if handle is None:
            import ray

            handle = ray.get_actor(process, namespace=self.namespace)
            self._handles[process] = handle
        return handle

    async def ask(self, kind: str, shard: int, entity_id: str, message: Any, timeout_s: float) -> Any:
        if (kind, shard) in self.local.hosts:
            return await self.local.ask(kind, shard, entity_id, message, timeout_s)
        from ray.exceptions import RayActorError

        process = self._process_of[(kind, shard)]
        deadline = time.monotonic() + timeout_s
        delay = 0.05
        while True:
            try:
                handle = self._handle(process)
            except ValueError:  # not registered yet (the engine is starting): wait for it
                handle = None
            if handle is not None:
                try:
                    remaining = max(0.01, deadline - time.monotonic())
                    return await asyncio.wait_for(handle.ask.remote(kind, shard, entity_id, message), remaining)
                except RayActorError as exc:  # the host died or is restarting; an entity's own error is a
                    # RayTaskError and goes straight to the caller
                    log.info("host %s:%s unavailable (%s); retrying", kind, shard, type(exc).__name__)
                    self._handles.pop(process, None)
            if time.monotonic() + delay > deadline:
                raise TimeoutError(f"host {kind}:{shard} did not answer within {timeout_s} s")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    def tell(self, kind: str, shard: int, entity_id: str, message: Any) -> None:
        """Messages told to one process in one turn of the event loop travel in one Ray call (a call costs
        ~1.2 ms of CPU on this kind of machine; ten messages in one cost about a tenth each).  Order is
        kept: one caller's calls to a process run in the order they were sent."""
        if (kind, shard) in self.local.hosts:
            self.local.tell(kind, shard, entity_id, message)
            return
        process = self._process_of[(kind, shard)]
        item = (kind, shard, entity_id, message)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a synchronous caller): send at once
            self._handle(process).tell_many.remote([item])
            return
        outgoing = self._outgoing.get(process)
        if outgoing is None:
            outgoing = self._outgoing[process] = []
            loop.call_soon(self._send, process, self._handle(process))
        outgoing.append(item)

    def _send(self, process: str, handle: Any) -> None:
        batch = self._outgoing.pop(process, None)
        if batch:
            handle.tell_many.remote(batch)

    async def describe(self, kind: str, shard: int) -> dict[str, Any]:
        if (kind, shard) in self.local.hosts:
            return await self.local.describe(kind, shard)
        return await self._handle(self._process_of[(kind, shard)]).describe.remote(kind, shard)
