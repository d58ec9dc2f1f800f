"""The entity actor base class and the context its host gives it."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from actors.runtime.ref import ActorRef
from crm_core import driver_sql

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from actors.runtime.host import EntityHost
    from actors.runtime.system import ActorSystem


@dataclass(frozen=True, slots=True)
class ReminderFired:
    """Delivered to an entity when one of its durable reminders comes due."""

    name: str
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Batch:
    """Told messages of one of an entity's ``batched`` types that waited back to back in its mailbox,
    handed to ``receive`` together (say, a call's events that arrived at once, written in one
    statement).  A lone one is handed over as it is."""

    messages: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class TimerFired:
    """Delivered to an entity when one of its in-memory timers comes due."""

    name: str
    payload: Any = None


class EntityContext:
    """What a host offers the entities it holds: the actor system, the database, reminders, timers and
    the event stream.  One context per activation."""

    __slots__ = ("ref", "_host", "_transaction", "_after_commit")

    def __init__(self, ref: ActorRef, host: EntityHost) -> None:
        self.ref = ref
        self._host = host
        self._transaction: driver_sql.Connection | None = None
        self._after_commit: list[tuple[str, datetime | None, dict[str, Any]]] = []

    @property
    def system(self) -> ActorSystem:
        return self._host.system

    @property
    def services(self) -> Any:
        return self._host.services

    @property
    def db(self) -> AsyncEngine:
        return self.services.db

    @asynccontextmanager
    async def transaction(self, *, relaxed: bool = False) -> AsyncIterator[driver_sql.Connection]:
        """One database transaction of this entity, on a driver connection (for :mod:`crm_core.driver_sql`
        statements).  Reminders set or cancelled with ``conn=`` the connection it yields are written in
        it and scheduled once it commits, so the entity's state and its reminders change together or not
        at all.  ``relaxed``: the commit returns before its WAL reaches the disk (still atomic; a server
        crash may lose it), for writes rebuilt from durable input such as the inbox."""
        pool = self.services.inbound_writes if relaxed else self.services.autocommit
        async with pool.transaction() as conn:
            self._transaction, self._after_commit = conn, []
            try:
                yield conn
            finally:
                self._transaction = None
        scheduled, self._after_commit = self._after_commit, []
        for name, due_at, payload in scheduled:
            self._host.schedule_reminder(self.ref, name, due_at, payload)

    async def set_reminder(self, name: str, due_at: datetime, payload: dict[str, Any] | None = None, *,
                           conn: driver_sql.Connection | None = None) -> None:
        """A durable reminder: survives passivation and a crash of the host; replaces one of the same name.
        With ``conn`` (from :meth:`transaction`) it is written in that transaction."""
        await self._change_reminder(name, due_at, payload or {}, conn)

    async def cancel_reminder(self, name: str, *, conn: driver_sql.Connection | None = None) -> None:
        await self._change_reminder(name, None, {}, conn)

    async def _change_reminder(self, name: str, due_at: datetime | None, payload: dict[str, Any],
                               conn: driver_sql.Connection | None) -> None:
        if conn is not None and conn is not self._transaction:
            raise ValueError("a reminder written in a transaction needs the connection of ctx.transaction()")
        await self._host.store_reminder(self.ref, name, due_at, payload, conn)
        if conn is None:
            self._host.schedule_reminder(self.ref, name, due_at, payload)
        else:
            self._after_commit.append((name, due_at, payload))

    def start_timer(self, name: str, delay_s: float, payload: Any = None) -> None:
        """An in-memory timer: lost on passivation or crash; replaces one of the same name."""
        self._host.start_timer(self.ref.id, name, delay_s, payload)

    def cancel_timer(self, name: str) -> None:
        self._host.cancel_timer(self.ref.id, name)

    def publish(self, event: dict[str, Any], *, at_once: bool = False) -> None:
        """Send a state change to the live event stream (supervisor wall, agent desktops).  Events go out
        in batches, one every flush of the process's :class:`~actors.runtime.outbox.EventOutbox`; ``at_once`` sends the batch with this event without
        waiting (a screen pop, which must reach the desktop before the call connects)."""
        self._host.publish(event, at_once=at_once)


class Entity(abc.ABC):
    """An entity actor: one object per ``ActorRef``, receiving one message at a time.

    Subclasses set ``kind``, load their state in :meth:`on_activate`, answer messages in :meth:`receive`
    (the return value is the reply to ``ask``) and flush in :meth:`on_passivate`.  An entity must not
    ``ask`` an entity that may ``ask`` it back (messages are processed one at a time, so that would wait
    forever); use ``tell`` for the way back.
    """

    kind: ClassVar[str]
    idle_timeout_s: ClassVar[float] = 300.0
    #: Told messages of these types waiting back to back in the mailbox reach ``receive`` as one
    #: :class:`Batch`.
    batched: ClassVar[tuple[type, ...]] = ()

    def __init__(self, ctx: EntityContext) -> None:
        self.ctx = ctx

    @property
    def ref(self) -> ActorRef:
        return self.ctx.ref

    async def on_activate(self) -> None:  # noqa: B027 - optional hook
        """Load state; called before the first message of an activation."""

    async def on_passivate(self) -> None:  # noqa: B027 - optional hook
        """Flush state; called when the entity has been idle for ``idle_timeout_s`` or asks to stop."""

    @abc.abstractmethod
    async def receive(self, message: Any) -> Any:
        """Handle one message; the result is the reply to ``ask``."""

    @classmethod
    async def on_host_start(cls, host: Any) -> None:
        """Awaited when a host of this kind starts, before its background jobs (say, to subscribe to
        what arrives for its shard)."""
        return None

    @classmethod
    def host_duty(cls, host: Any) -> Coroutine[Any, Any, None] | None:
        """A background job the host of each shard runs for this kind (e.g. re-delivering its inbox)."""
        return None

    def describe(self) -> dict[str, Any]:
        """A small JSON-able summary of the state, for the actor view."""
        return {}

    def wants_passivation(self) -> bool:
        """True when the entity has finished its work and may be passivated right away."""
        return False

    def failed(self, error: Exception) -> None:  # noqa: B027 - optional hook
        """``receive`` raised ``error``.  An entity whose memory may now be ahead of what it stored (a
        transaction rolled back under it) asks here to be passivated, to re-activate from the database."""
