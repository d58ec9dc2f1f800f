"""The in-process host: mailboxes, activation, passivation, reminders and timers, no Ray, no database."""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from actors.runtime import ActorRef, ActorSystem, Batch, Entity, ReminderFired
from actors.runtime.entity import TimerFired
from actors.runtime.host import EntityHost, EntityNotFound, EntityUnavailable, HostSettings
from actors.runtime.reminders import MemoryReminderStore


class Counter(Entity):
    """Keeps a count in the shared ``store`` (standing in for the database)."""

    kind = "counter"
    idle_timeout_s = 0.05

    async def on_activate(self):
        self.services_store = self.ctx.services.store
        if self.ref.id == "broken":
            raise RuntimeError("cannot load")
        if self.ref.id == "missing":
            raise LookupError("no such counter")
        self.count = self.services_store.get(self.ref.id, 0)
        self.ctx.services.log.append(("activate", self.ref.id))

    async def on_passivate(self):
        await asyncio.sleep(self.ctx.services.passivation_s)
        self.services_store[self.ref.id] = self.count
        self.ctx.services.log.append(("passivate", self.ref.id))

    async def receive(self, message):
        match message:
            case ("add", n):
                current = self.count
                await asyncio.sleep(0)  # a yield inside the handler must not let another message in
                self.count = current + n
                return self.count
            case ("remind", seconds):
                await self.ctx.set_reminder("ping", datetime.now(UTC) + timedelta(seconds=seconds), {"x": 1})
            case ("timer", seconds):
                self.ctx.start_timer("tick", seconds, "payload")
            case ReminderFired(name=name, payload=payload):
                self.ctx.services.log.append(("reminder", name, payload))
            case TimerFired(name=name, payload=payload):
                self.ctx.services.log.append(("timer", name, payload))
            case "fail":
                raise ValueError("bad message")
        return self.count


async def make_system(shards=2):
    services = SimpleNamespace(store={}, log=[], passivation_s=0.0)
    system = ActorSystem({"counter": shards})
    reminders = MemoryReminderStore()
    hosts = []
    for shard in range(shards):
        host = EntityHost(HostSettings("counter", shard, shards, idle_sweep_s=0.02, reminder_poll_s=0.01),
                          Counter, system, services, reminders)
        system.transport.add(host)
        await host.start()
        hosts.append(host)
    return system, services, hosts


async def test_messages_to_one_entity_are_handled_one_at_a_time_in_order():
    system, _, hosts = await make_system()
    ref = ActorRef("counter", "a")
    results = await asyncio.gather(*(system.ask(ref, ("add", 1)) for _ in range(200)))
    assert sorted(results) == list(range(1, 201))
    assert await system.ask(ref, ("add", 0)) == 200
    for host in hosts:
        await host.stop()


async def test_idle_entity_is_passivated_and_reactivated_with_its_state():
    system, services, hosts = await make_system()
    ref = ActorRef("counter", "b")
    await system.ask(ref, ("add", 5))
    for _ in range(100):
        if ("passivate", "b") in services.log:
            break
        await asyncio.sleep(0.02)
    assert ("passivate", "b") in services.log
    assert sum(h.active_count for h in hosts) == 0
    assert await system.ask(ref, ("add", 1)) == 6
    assert services.log.count(("activate", "b")) == 2
    for host in hosts:
        await host.stop()


async def test_an_idle_entity_holds_no_task_and_a_message_during_its_passivation_waits_for_it():
    system, services, hosts = await make_system(shards=1)
    host, ref = hosts[0], ActorRef("counter", "e")
    assert await system.ask(ref, ("add", 3)) == 3
    await asyncio.sleep(0)
    assert host.describe()["entities"][0]["busy"] is False
    assert host._activations["e"].task is None  # idle: its entity and an empty mailbox, nothing running
    services.passivation_s = 0.1
    passivating = asyncio.create_task(host.passivate("e"))
    await asyncio.sleep(0.02)  # the count is not stored yet
    assert "e" not in services.store
    assert await system.ask(ref, ("add", 1)) == 4  # the new activation read what the old one stored
    await passivating
    assert services.log.count(("activate", "e")) == 2
    await host.stop()


async def test_failed_activation_fails_the_ask_and_keeps_the_host_running():
    system, _, hosts = await make_system()
    with pytest.raises(EntityUnavailable, match="cannot load"):
        await system.ask(ActorRef("counter", "broken"), ("add", 1))
    with pytest.raises(ValueError, match="bad message"):
        await system.ask(ActorRef("counter", "c"), "fail")
    assert await system.ask(ActorRef("counter", "c"), ("add", 2)) == 2
    for host in hosts:
        await host.stop()


async def test_an_activation_that_finds_nothing_says_there_is_no_such_entity():
    system, _, hosts = await make_system()
    with pytest.raises(EntityNotFound, match="no such counter"):
        await system.ask(ActorRef("counter", "missing"), ("add", 1))
    with pytest.raises(EntityUnavailable) as broken:
        await system.ask(ActorRef("counter", "broken"), ("add", 1))
    assert not isinstance(broken.value, EntityNotFound)
    for host in hosts:
        await host.stop()


async def test_durable_reminder_fires_after_passivation_and_timer_fires_while_active():
    system, services, hosts = await make_system(shards=1)
    ref = ActorRef("counter", "d")
    await system.ask(ref, ("remind", 0.1))
    await system.ask(ref, ("timer", 0.01))
    for _ in range(200):
        if ("reminder", "ping", {"x": 1}) in services.log and ("timer", "tick", "payload") in services.log:
            break
        await asyncio.sleep(0.02)
    assert ("timer", "tick", "payload") in services.log
    assert ("reminder", "ping", {"x": 1}) in services.log
    assert hosts[0].reminders.rows == {}
    await hosts[0].stop()


def test_placement_is_stable_and_spreads():
    system = ActorSystem({"conversation": 4})
    shards = [system.shard(ActorRef("conversation", str(i))) for i in range(1000)]
    assert shards == [system.shard(ActorRef("conversation", str(i))) for i in range(1000)]
    assert all(shards.count(s) > 150 for s in range(4))


class Announcer(Entity):
    kind = "announcer"

    async def receive(self, message):
        self.ctx.publish({"type": "said", "id": message}, at_once=message.endswith("!"))


async def announcer_host(publish_flush_s):
    """A host of announcers publishing into the returned list of batches."""
    batches = []
    system = ActorSystem({"announcer": 1})
    host = EntityHost(HostSettings("announcer", 0, 1, publish_flush_s=publish_flush_s), Announcer, system,
                      SimpleNamespace(), MemoryReminderStore(), publish=batches.append)
    system.transport.add(host)
    await host.start()
    return system, host, batches


async def test_every_published_event_reaches_the_stream_across_flushes():
    system, host, batches = await announcer_host(0.01)
    for word in ("one", "two", "three"):
        await system.ask(ActorRef("announcer", "a"), word)
        await asyncio.sleep(0.05)
    await host.stop()
    assert [e["id"] for batch in batches for e in batch] == ["one", "two", "three"]


async def test_an_urgent_event_goes_out_at_once_with_what_was_waiting_before_it():
    system, host, batches = await announcer_host(60.0)
    await system.ask(ActorRef("announcer", "a"), "routine")
    await asyncio.sleep(0.05)
    assert batches == []  # the next flush is a minute away
    await system.ask(ActorRef("announcer", "a"), "ringing!")
    await asyncio.sleep(0.05)
    assert [[e["id"] for e in batch] for batch in batches] == [["routine", "ringing!"]]
    await host.stop()


@dataclass(frozen=True)
class Note:
    text: str


class Recorder(Entity):
    """Records what each ``receive`` got; notes told back to back arrive together."""

    kind = "recorder"
    batched = (Note,)

    async def receive(self, message):
        got = [n.text for n in message.messages] if isinstance(message, Batch) else message
        self.ctx.services.received.append(got)
        if got == "hold" or (isinstance(got, list) and "held" in got):
            await self.ctx.services.release.wait()
        return got


async def test_told_messages_waiting_back_to_back_reach_the_entity_together_in_order():
    services = SimpleNamespace(received=[], release=asyncio.Event())
    system = ActorSystem({"recorder": 1})
    host = EntityHost(HostSettings("recorder", 0, 1), Recorder, system, services, MemoryReminderStore())
    system.transport.add(host)
    ref = ActorRef("recorder", "r")
    held = asyncio.ensure_future(system.ask(ref, "hold"))
    await asyncio.sleep(0.01)
    for text in ("a", "b", "c"):
        system.tell(ref, Note(text))
    asked = asyncio.ensure_future(system.ask(ref, Note("asked")))  # an ask is answered on its own
    await asyncio.sleep(0.01)
    system.tell(ref, Note("d"))
    system.tell(ref, "plain")
    system.tell(ref, Note("e"))
    await asyncio.sleep(0.01)
    assert host.pending(lambda msg: isinstance(msg, Note)) == [Note(t) for t in ("a", "b", "c", "asked", "d", "e")]
    services.release.set()
    await held
    assert await asked == Note("asked")
    await asyncio.sleep(0.01)
    assert services.received == ["hold", ["a", "b", "c"], Note("asked"), Note("d"), "plain", Note("e")]
    services.release.clear()
    system.tell(ref, Note("held"))
    system.tell(ref, Note("f"))
    await asyncio.sleep(0.01)
    assert services.received[-1] == ["held", "f"]
    assert host.pending(lambda msg: isinstance(msg, Note)) == [Note("held"), Note("f")]  # being handled
    services.release.set()
