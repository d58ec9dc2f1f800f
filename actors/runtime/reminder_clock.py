"""The reminder clock of one host: fires its shard's durable reminders on time.

Reminders live in PostgreSQL (:mod:`actors.runtime.reminders`); the clock polls its shard for those due
within a short look-ahead and keeps them in memory, each on an event-loop timer at its own due instant,
so a reminder fires within milliseconds of its due time rather than at the next poll.  A reminder set or
cancelled by an entity of this host is scheduled or unscheduled at once.  Each firing is its own task
(bounded in number), so a burst of reminders due together is delivered side by side and one slow entity
holds up no other.  A reminder's row is deleted only after its entity handled it and only if it was not
set again meanwhile (then the entity's own write replaced it and no delete is needed): a failure or a
crash fires it again (at-least-once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from actors.runtime.entity import ReminderFired
from actors.runtime.reminders import DueReminder

if TYPE_CHECKING:
    from actors.runtime.host import HostSettings
    from actors.runtime.reminders import ReminderStore

log = logging.getLogger(__name__)

Deliver = Callable[[str, ReminderFired], Awaitable[Any]]


class ReminderClock:
    """Schedules and fires the reminders of one (kind, shard)."""

    def __init__(self, settings: HostSettings, store: ReminderStore, deliver: Deliver) -> None:
        self.settings = settings
        self.store = store
        self.deliver = deliver
        self._scheduled: dict[tuple[str, str], tuple[datetime, asyncio.TimerHandle | None]] = {}
        self._firing: set[asyncio.Task[None]] = set()
        self._rewritten: set[tuple[str, str]] = set()  # firing reminders their entity set or cancelled
        self._slots = asyncio.Semaphore(settings.reminder_concurrency)

    async def run(self) -> None:
        """Poll forever; a failed poll is logged and retried."""
        while True:
            try:
                await self.poll()
            except Exception:
                log.exception("reminder poll of %s shard %s failed", self.settings.kind, self.settings.shard)
            await asyncio.sleep(self.settings.reminder_poll_s)

    async def poll(self, now: datetime | None = None) -> int:
        """Schedule every reminder of the shard due within the look-ahead; returns how many were new."""
        now = now or datetime.now(UTC)
        horizon = now + timedelta(seconds=self.settings.reminder_lookahead_s)
        due = await self.store.due(self.settings.kind, self.settings.shard, horizon)
        return sum(self._schedule(reminder) for reminder in due)

    def set(self, entity_id: str, name: str, due_at: datetime, payload: dict[str, Any]) -> None:
        """A reminder of this shard was set (already stored): schedule it now if it falls due soon."""
        self._note_rewrite(entity_id, name)
        if due_at - datetime.now(UTC) <= timedelta(seconds=self.settings.reminder_lookahead_s):
            self._schedule(DueReminder(entity_id, name, due_at, payload))
        else:
            self.cancel(entity_id, name)

    def cancel(self, entity_id: str, name: str) -> None:
        """A reminder was cancelled (or moved beyond the look-ahead): forget its pending timer."""
        self._note_rewrite(entity_id, name)
        scheduled = self._scheduled.get((entity_id, name))
        if scheduled is not None and scheduled[1] is not None:
            scheduled[1].cancel()
            del self._scheduled[(entity_id, name)]

    def _note_rewrite(self, entity_id: str, name: str) -> None:
        scheduled = self._scheduled.get((entity_id, name))
        if scheduled is not None and scheduled[1] is None:
            self._rewritten.add((entity_id, name))

    def stop(self) -> None:
        for _, handle in self._scheduled.values():
            if handle is not None:
                handle.cancel()
        self._scheduled.clear()
        for task in self._firing:
            task.cancel()

    @property
    def pending(self) -> int:
        return len(self._scheduled)

    def _schedule(self, reminder: DueReminder) -> bool:
        key = (reminder.entity_id, reminder.name)
        current = self._scheduled.get(key)
        if current is not None and current[0] == reminder.due_at:
            return False  # already on a timer, or firing
        if current is not None and current[1] is not None:
            current[1].cancel()
        delay = max(0.0, (reminder.due_at - datetime.now(UTC)).total_seconds())
        handle = asyncio.get_running_loop().call_later(delay, self._start, reminder)
        self._scheduled[key] = (reminder.due_at, handle)
        return True

    def _start(self, reminder: DueReminder) -> None:
        self._scheduled[(reminder.entity_id, reminder.name)] = (reminder.due_at, None)
        task = asyncio.get_running_loop().create_task(self._fire(reminder))
        self._firing.add(task)
        task.add_done_callback(self._firing.discard)

    async def _fire(self, reminder: DueReminder) -> None:
        key = (reminder.entity_id, reminder.name)
        self._rewritten.discard(key)
        try:
            async with self._slots:
                await self.deliver(reminder.entity_id,
                                   ReminderFired(reminder.name, reminder.due_at, reminder.payload))
                if key not in self._rewritten:
                    await self.store.delete(self.settings.kind, reminder.entity_id, reminder.name, reminder.due_at)
        except Exception:
            log.exception("reminder %s of %s/%s failed; it fires again", reminder.name, self.settings.kind,
                          reminder.entity_id)
        finally:
            self._rewritten.discard(key)
            if self._scheduled.get(key, (None, None))[0] == reminder.due_at:
                del self._scheduled[key]
