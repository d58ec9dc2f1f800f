"""The entity actor base class and the context its host gives it."""

from __future__ import annotations

import abc
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from actors.runtime.ref import ActorRef

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from actors.runtime.system import ActorSystem


@dataclass(frozen=True, slots=True)
class ReminderFired:
    """Delivered to an entity when one of its durable reminders comes due."""

    name: str
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TimerFired:
    """Delivered to an entity when one of its in-memory timers comes due."""

    name: str
    payload: Any = None


class EntityContext:
    """What a host offers the entities it holds: the actor system, the database, reminders, timers and
    the event stream.  One context per activation."""

    def __init__(self, ref: ActorRef, system: ActorSystem, services: Any, *,
                 set_reminder: Callable[..., Any], cancel_reminder: Callable[..., Any],
                 start_timer: Callable[..., None], cancel_timer: Callable[[str], None],
                 publish: Callable[[dict[str, Any]], None]) -> None:
        self.ref = ref
        self.system = system
        self.services = services
        self._set_reminder = set_reminder
        self._cancel_reminder = cancel_reminder
        self._start_timer = start_timer
        self._cancel_timer = cancel_timer
        self._publish = publish

    @property
    def db(self) -> AsyncEngine:
        return self.services.db

    async def set_reminder(self, name: str, due_at: datetime, payload: dict[str, Any] | None = None) -> None:
        """A durable reminder: survives passivation and a crash of the host; replaces one of the same name."""
        await self._set_reminder(self.ref, name, due_at, payload or {})

    async def cancel_reminder(self, name: str) -> None:
        await self._cancel_reminder(self.ref, name)

    def start_timer(self, name: str, delay_s: float, payload: Any = None) -> None:
        """An in-memory timer: lost on passivation or crash; replaces one of the same name."""
        self._start_timer(name, delay_s, payload)

    def cancel_timer(self, name: str) -> None:
        self._cancel_timer(name)

    def publish(self, event: dict[str, Any]) -> None:
        """Send a state change to the live event stream (supervisor wall, agent desktops)."""
        self._publish(event)


class Entity(abc.ABC):
    """An entity actor: one object per ``ActorRef``, receiving one message at a time.

    Subclasses set ``kind``, load their state in :meth:`on_activate`, answer messages in :meth:`receive`
    (the return value is the reply to ``ask``) and flush in :meth:`on_passivate`.  An entity must not
    ``ask`` an entity that may ``ask`` it back (messages are processed one at a time, so that would wait
    forever); use ``tell`` for the way back.
    """

    kind: ClassVar[str]
    idle_timeout_s: ClassVar[float] = 300.0

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
