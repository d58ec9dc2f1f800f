"""Call events reach the sink in order per call, side by side across calls, and a refused one is kept."""

import asyncio
import time

from channels.base import Address, Inbound
from channels.voice.delivery import InboundDelivery


def event(call: str, n: int) -> Inbound:
    return Inbound(channel="voice", thread_key=f"voice:{call}", dedupe_key=f"{call}:{n}",
                   sender=Address("phone", "0671234567"), kind="call_event", metadata={"n": n})


class SlowSink:
    """Holds every item until released; refuses every item of call ``refuse`` (the database away) for
    ``outage_s`` after the first one; a repeat of a stored item is dropped, as the inbox drops it."""

    def __init__(self, refuse: str | None = None, outage_s: float = 0.0) -> None:
        self.in_sink: set[str] = set()
        self.most_at_once = 0
        self.entered: list[str] = []
        self.stored: list[str] = []
        self.release = asyncio.Event()
        self.refuse, self.outage_s, self.outage_ends, self.refusals = refuse, outage_s, None, 0

    async def __call__(self, item: Inbound) -> None:
        if item.thread_key == f"voice:{self.refuse}":
            self.outage_ends = self.outage_ends or time.monotonic() + self.outage_s
            if time.monotonic() < self.outage_ends:
                self.refusals += 1
                raise ConnectionError("database away")
        self.entered.append(item.dedupe_key)
        self.in_sink.add(item.dedupe_key)
        self.most_at_once = max(self.most_at_once, len(self.in_sink))
        await self.release.wait()
        self.in_sink.discard(item.dedupe_key)
        if item.dedupe_key not in self.stored:
            self.stored.append(item.dedupe_key)


async def test_every_calls_waiting_events_are_in_the_sink_together_and_each_call_keeps_its_order():
    sink = SlowSink()
    delivery = InboundDelivery(sink, retry_initial=0.01, retry_max=0.05)
    for n in range(3):
        for call in range(100):
            delivery.put(event(str(call), n))
    await asyncio.sleep(0.05)
    assert sink.most_at_once == 300  # every call's three events, all calls side by side
    assert delivery.backlog == 300
    sink.release.set()
    await asyncio.wait_for(delivery.drain(), 5)
    assert delivery.backlog == 0
    for call in range(100):
        expected = [f"{call}:{n}" for n in range(3)]
        assert [k for k in sink.entered if k.startswith(f"{call}:")] == expected
        assert [k for k in sink.stored if k.startswith(f"{call}:")] == expected


async def test_an_event_arriving_while_its_call_is_being_stored_follows_in_the_next_batch():
    sink = SlowSink()
    delivery = InboundDelivery(sink, retry_initial=0.01, retry_max=0.05)
    delivery.put(event("a", 0))
    await asyncio.sleep(0.01)
    delivery.put(event("a", 1))
    await asyncio.sleep(0.01)
    assert sink.entered == ["a:0"]  # waits behind its call's event in the sink
    sink.release.set()
    await asyncio.wait_for(delivery.drain(), 5)
    assert sink.stored == ["a:0", "a:1"]


async def test_refused_events_are_retried_in_their_calls_order_while_other_calls_go_on():
    sink = SlowSink(refuse="a", outage_s=0.12)
    sink.release.set()
    delivery = InboundDelivery(sink, retry_initial=0.05, retry_max=0.1)
    delivery.put(event("a", 0))
    delivery.put(event("a", 1))
    delivery.put(event("b", 0))
    await asyncio.sleep(0.02)
    assert sink.stored == ["b:0"]  # call b did not wait for call a's retries
    await asyncio.wait_for(delivery.drain(), 5)
    assert sink.refusals >= 3
    assert sink.stored == ["b:0", "a:0", "a:1"]
    await delivery.stop()
