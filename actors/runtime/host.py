"""A host: holds the entity actors of one kind and one shard, each with its own mailbox.

The host activates an entity on its first message, feeds it one message at a time, passivates it when
idle, fires the durable reminders of its shard (:mod:`actors.runtime.reminder_clock`) and keeps
in-memory timers.  It is plain asyncio: the
same class runs in-process for unit tests and inside a Ray actor (:mod:`actors.runtime.ray_host`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from actors.runtime.entity import Batch, Entity, EntityContext, TimerFired
from actors.runtime.outbox import FLUSH_S, EventOutbox
from actors.runtime.ref import ActorRef
from actors.runtime.reminder_clock import ReminderClock

if TYPE_CHECKING:
    from actors.runtime.reminders import ReminderStore
    from actors.runtime.system import ActorSystem

log = logging.getLogger(__name__)

_PASSIVATE = object()


class EntityUnavailable(Exception):
    """The entity could not be activated (its state could not be loaded); the message was not handled."""


class EntityNotFound(EntityUnavailable, LookupError):
    """The entity could not be activated because there is no such one (its activation found nothing)."""


@dataclass(eq=False, slots=True)
class Activation:
    """One live entity: its mailbox and the task draining it, which exists only while there is work (an
    idle activation is its entity, its state and an empty deque)."""

    entity: Entity
    mailbox: deque[Any] = field(default_factory=deque)
    timers: dict[str, asyncio.TimerHandle] | None = None
    task: asyncio.Task[None] | None = None
    last_active: float = field(default_factory=time.monotonic)
    handled: int = 0
    current: Any = None  # the message being handled, None between messages
    ready: bool = False


def _batch(first: Any, mailbox: deque[Any]) -> Any:
    """``first`` and the told messages of its type right behind it in ``mailbox`` (taken out of it)."""
    messages = [first]
    while mailbox and mailbox[0] is not _PASSIVATE and mailbox[0][1] is None and type(mailbox[0][0]) is type(first):
        messages.append(mailbox.popleft()[0])
    return Batch(tuple(messages)) if len(messages) > 1 else first


@dataclass(frozen=True, slots=True)
class HostSettings:
    kind: str
    shard: int
    shards: int
    reminder_poll_s: float = 0.2
    reminder_lookahead_s: float = 2.0
    reminder_concurrency: int = 64
    idle_sweep_s: float = 5.0
    publish_flush_s: float = FLUSH_S


class EntityHost:
    """Holds the activations of one shard of one entity kind."""

    def __init__(self, settings: HostSettings, entity_class: type[Entity], system: ActorSystem,
                 services: Any, reminders: ReminderStore,
                 publish: Callable[[list[dict[str, Any]]], Any] | None = None,
                 outbox: EventOutbox | None = None) -> None:
        """Live events go to ``outbox`` when given (shared by the hosts of one process, which runs it),
        else in batches to ``publish`` through an outbox of this host's own."""
        self.settings = settings
        self.entity_class = entity_class
        self.system = system
        self.services = services
        self.reminders = reminders
        self._own_outbox = outbox is None and publish is not None
        self.outbox = outbox or (EventOutbox(publish, settings.publish_flush_s) if publish is not None else None)
        self._activations: dict[str, Activation] = {}
        self._passivations: dict[str, asyncio.Future[None]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.clock = ReminderClock(settings, reminders, self.ask)
        self.activated_total = 0
        self.passivated_total = 0

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.entity_class.on_host_start(self)
        self._tasks = [asyncio.create_task(self.clock.run(), name="reminders"),
                       asyncio.create_task(self._sweep_idle(), name="idle-sweep")]
        if self._own_outbox:
            self._tasks.append(asyncio.create_task(self.outbox.run(), name="events"))
        duty = self.entity_class.host_duty(self)
        if duty is not None:
            self._tasks.append(asyncio.create_task(duty, name="duty"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        self.clock.stop()
        for entity_id in list(self._activations):
            await self.passivate(entity_id)
        if self._own_outbox:
            await self.outbox.flush()

    # --- delivery --------------------------------------------------------------------------------

    async def ask(self, entity_id: str, message: Any) -> Any:
        """Deliver a message and wait for the entity's reply."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._deliver(self._activation(entity_id), (message, future))
        return await future

    def tell(self, entity_id: str, message: Any) -> None:
        """Deliver a message without waiting; a failure is logged, not raised."""
        self._deliver(self._activation(entity_id), (message, None))

    async def passivate(self, entity_id: str) -> None:
        activation = self._activations.get(entity_id)
        if activation is None:
            return
        self._deliver(activation, _PASSIVATE)
        if activation.task is not None:
            await asyncio.shield(activation.task)

    def _activation(self, entity_id: str) -> Activation:
        activation = self._activations.get(entity_id)
        if activation is None:
            context = EntityContext(ActorRef(self.settings.kind, entity_id), self)
            activation = Activation(self.entity_class(context))
            self._activations[entity_id] = activation
        return activation

    def _deliver(self, activation: Activation, item: Any) -> None:
        activation.mailbox.append(item)
        if activation.task is None:
            activation.task = asyncio.create_task(self._drain(activation))

    async def _drain(self, activation: Activation) -> None:
        """Handle the mailbox one message at a time until it is empty, activating the entity first and
        passivating it when it asks to be (or was told to be) with nothing left to do.  No await between
        the last look at the empty mailbox and the end of the task: a message delivered from then on
        starts the next one."""
        try:
            if not activation.ready and not await self._activate(activation):
                return
            mailbox, entity = activation.mailbox, activation.entity
            while mailbox:
                item = mailbox.popleft()
                if item is _PASSIVATE:
                    if not mailbox:
                        await self._passivate(activation)
                        return
                    continue
                message, future = item
                if future is None and isinstance(message, entity.batched) and mailbox:
                    message = _batch(message, mailbox)
                await self._handle(activation, message, future)
                if not mailbox and entity.wants_passivation():
                    await self._passivate(activation)
                    return
        finally:
            activation.task = None

    async def _activate(self, activation: Activation) -> bool:
        entity_id = activation.entity.ref.id
        previous = self._passivations.get(entity_id)
        if previous is not None:
            await previous
        try:
            await activation.entity.on_activate()
        except Exception as exc:
            log.exception("activation of %s/%s failed", self.settings.kind, entity_id)
            self._forget(activation)
            unavailable = EntityNotFound if isinstance(exc, LookupError) else EntityUnavailable
            self._fail_waiting(activation, unavailable(f"{self.settings.kind}/{entity_id}: {exc}"))
            return False
        self.activated_total += 1
        activation.ready = True
        return True

    async def _handle(self, activation: Activation, message: Any, future: asyncio.Future[Any] | None) -> None:
        activation.current = message
        try:
            result = await activation.entity.receive(message)
        except Exception as exc:
            activation.entity.failed(exc)
            if future is None:
                log.exception("%s/%s failed on %r", self.settings.kind, activation.entity.ref.id, message)
            elif not future.done():
                future.set_exception(exc)
        else:
            if future is not None and not future.done():
                future.set_result(result)
        finally:
            activation.current = None
            activation.handled += 1
            activation.last_active = time.monotonic()

    async def _passivate(self, activation: Activation) -> None:
        """Forget the activation (a message from now on starts a new one, which waits for this to
        finish), then let the entity say goodbye."""
        entity_id = activation.entity.ref.id
        self._forget(activation)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._passivations[entity_id] = done
        try:
            await activation.entity.on_passivate()
        except Exception:
            log.exception("passivation of %s/%s failed", self.settings.kind, entity_id)
        finally:
            self.passivated_total += 1
            done.set_result(None)
            if self._passivations.get(entity_id) is done:
                del self._passivations[entity_id]

    def _forget(self, activation: Activation) -> None:
        entity_id = activation.entity.ref.id
        if self._activations.get(entity_id) is activation:
            del self._activations[entity_id]
        if activation.timers:
            for timer in activation.timers.values():
                timer.cancel()
            activation.timers = None

    @staticmethod
    def _fail_waiting(activation: Activation, error: Exception) -> None:
        while activation.mailbox:
            item = activation.mailbox.popleft()
            if item is not _PASSIVATE and item[1] is not None and not item[1].done():
                item[1].set_exception(error)

    # --- timers and reminders --------------------------------------------------------------------

    def start_timer(self, entity_id: str, name: str, delay_s: float, payload: Any) -> None:
        activation = self._activations[entity_id]
        self.cancel_timer(entity_id, name)

        def fire() -> None:
            if activation.timers is not None:
                activation.timers.pop(name, None)
            if self._activations.get(entity_id) is activation:
                self._deliver(activation, (TimerFired(name, payload), None))

        if activation.timers is None:
            activation.timers = {}
        activation.timers[name] = asyncio.get_running_loop().call_later(delay_s, fire)

    def cancel_timer(self, entity_id: str, name: str) -> None:
        activation = self._activations.get(entity_id)
        if activation is not None and activation.timers and (timer := activation.timers.pop(name, None)) is not None:
            timer.cancel()

    async def store_reminder(self, ref: ActorRef, name: str, due_at: datetime | None, payload: dict[str, Any],
                              conn: Any = None) -> None:
        """Write (``due_at`` None: delete) a reminder's row, in ``conn``'s transaction when given."""
        if due_at is None:
            await self.reminders.delete(ref.kind, ref.id, name, conn=conn)
        else:
            await self.reminders.upsert(ref.kind, ref.id, name, self.settings.shard, due_at, payload, conn=conn)

    def schedule_reminder(self, ref: ActorRef, name: str, due_at: datetime | None, payload: dict[str, Any]) -> None:
        """Put a stored reminder on (``due_at`` None: off) this host's clock."""
        if due_at is None:
            self.clock.cancel(ref.id, name)
        else:
            self.clock.set(ref.id, name, due_at, payload)

    async def fire_due_reminders(self, now: datetime | None = None) -> int:
        """Schedule every reminder of this shard due now or within the look-ahead; returns how many
        were not scheduled yet.  (The host does this every ``reminder_poll_s``.)"""
        return await self.clock.poll(now)

    async def _sweep_idle(self) -> None:
        while True:
            await asyncio.sleep(self.settings.idle_sweep_s)
            now = time.monotonic()
            for activation in list(self._activations.values()):
                if (activation.task is None and not activation.timers
                        and now - activation.last_active > activation.entity.idle_timeout_s):
                    self._deliver(activation, _PASSIVATE)

    # --- events ----------------------------------------------------------------------------------

    def publish(self, event: dict[str, Any], *, at_once: bool = False) -> None:
        if self.outbox is not None:
            self.outbox.publish(event, at_once=at_once)

    # --- introspection ---------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """Every live activation with its mailbox depth and state: the actor view."""
        return {
            "kind": self.settings.kind, "shard": self.settings.shard,
            "activated_total": self.activated_total, "passivated_total": self.passivated_total,
            "entities": [
                {"id": entity_id, "mailbox": len(a.mailbox), "busy": a.current is not None, "handled": a.handled,
                 "state": a.entity.describe() if a.ready else {"activating": True}}
                for entity_id, a in self._activations.items()
            ],
        }

    def pending(self, matches: Callable[[Any], bool]) -> list[Any]:
        """The messages waiting in a mailbox or being handled right now that ``matches`` selects."""
        found = []
        for activation in self._activations.values():
            current = activation.current
            if current is not None:
                found.extend(m for m in (current.messages if isinstance(current, Batch) else (current,)) if matches(m))
            found.extend(item[0] for item in activation.mailbox if item is not _PASSIVATE and matches(item[0]))
        return found

    @property
    def active_count(self) -> int:
        return len(self._activations)
