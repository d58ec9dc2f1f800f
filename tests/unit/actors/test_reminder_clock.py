"""The host's reminder clock: a burst of due reminders is delivered side by side (a slow entity holds up
no other), a reminder set again while it fires is kept, a failed one fires again, a cancelled one never
fires.  In memory: no database, no Ray."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from actors.runtime.host import HostSettings
from actors.runtime.reminder_clock import ReminderClock
from actors.runtime.reminders import MemoryReminderStore

SETTINGS = HostSettings("conversation", 0, 1, reminder_poll_s=0.01)


async def stored(store: MemoryReminderStore, entity_id: str, due_at: datetime, name: str = "sla") -> None:
    await store.upsert("conversation", entity_id, name, 0, due_at, {})


async def until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.005)


async def test_a_slow_entity_does_not_hold_up_the_other_due_reminders():
    store = MemoryReminderStore()
    now = datetime.now(UTC)
    for n in range(50):
        await stored(store, f"t{n}", now - timedelta(seconds=1))
    delivered: list[str] = []
    release = asyncio.Event()

    async def deliver(entity_id, fired):
        if entity_id == "t0":
            await release.wait()
        delivered.append(entity_id)

    clock = ReminderClock(SETTINGS, store, deliver)
    assert await clock.poll() == 50
    assert await clock.poll() == 0  # already scheduled: not twice
    await asyncio.wait_for(until(lambda: len(delivered) == 49), 5)
    assert "t0" not in delivered and ("conversation", "t0", "sla") in store.rows
    release.set()
    await asyncio.wait_for(until(lambda: not store.rows), 5)
    assert sorted(delivered) == sorted(f"t{n}" for n in range(50))


async def test_a_reminder_set_again_while_firing_is_kept_and_a_failed_one_fires_again():
    store = MemoryReminderStore()
    now = datetime.now(UTC)
    later = now + timedelta(hours=1)
    await stored(store, "again", now)
    await stored(store, "failing", now)
    attempts: list[str] = []

    async def deliver(entity_id, fired):
        attempts.append(entity_id)
        if entity_id == "again":
            await stored(store, "again", later)
            clock.set("again", "sla", later, {})
        elif attempts.count("failing") == 1:
            raise RuntimeError("the entity could not be activated")

    clock = ReminderClock(SETTINGS, store, deliver)
    await clock.poll()
    await asyncio.wait_for(until(lambda: "again" in attempts and "failing" in attempts and clock.pending == 0), 5)
    assert store.rows[("conversation", "again", "sla")][1] == later
    assert ("conversation", "failing", "sla") in store.rows
    await clock.poll()  # the next poll takes the failed one again
    await asyncio.wait_for(until(lambda: ("conversation", "failing", "sla") not in store.rows), 5)
    assert attempts.count("failing") == 2 and attempts.count("again") == 1


async def test_a_cancelled_reminder_does_not_fire_and_a_far_one_waits_for_its_poll():
    store = MemoryReminderStore()
    fired: list[str] = []

    async def deliver(entity_id, reminder):
        fired.append(entity_id)

    clock = ReminderClock(SETTINGS, store, deliver)
    soon = datetime.now(UTC)
    clock.set("cancelled", "sla", soon, {})
    clock.cancel("cancelled", "sla")
    clock.set("far", "sla", soon + timedelta(hours=2), {})
    assert clock.pending == 0
    clock.set("due", "sla", soon, {})
    await asyncio.wait_for(until(lambda: fired), 5)
    await asyncio.sleep(0.02)
    assert fired == ["due"]
    clock.stop()
