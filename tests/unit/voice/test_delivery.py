"""Call events reach the sink in order per call, side by side across calls, and a refused one is kept."""

import asyncio

from channels.base import Address, Inbound
from channels.voice.delivery import InboundDelivery


def event(call: str, n: int) -> Inbound:
    return Inbound(channel="voice", thread_key=f"voice:{call}", dedupe_key=f"{call}:{n}",
                   sender=Address("phone", "0671234567"), kind="call_event", metadata={"n": n})


class SlowSink:
    """Holds every item until released; refuses the first item of call ``refuse`` twice."""

    def __init__(self, refuse: str | None = None) -> None:
        self.in_sink: set[str] = set()
        self.most_at_once = 0
        self.stored: list[str] = []
        self.release = asyncio.Event()
        self.refuse, self.refusals = refuse, 0

    async def __call__(self, item: Inbound) -> None:
        if item.thread_key == f"voice:{self.refuse}" and self.refusals < 2:
            self.refusals += 1
            raise ConnectionError("database away")
        self.in_sink.add(item.dedupe_key)
        self.most_at_once = max(self.most_at_once, len(self.in_sink))
        await self.release.wait()
        self.in_sink.discard(item.dedupe_key)
        self.stored.append(item.dedupe_key)


async def test_every_calls_next_event_is_in_the_sink_at_once_and_each_call_keeps_its_order():
    sink = SlowSink()
    delivery = InboundDelivery(sink, retry_initial=0.01, retry_max=0.05)
    for n in range(3):
        for call in range(100):
            delivery.put(event(str(call), n))
    await asyncio.sleep(0.05)
    assert sink.most_at_once == 100  # one event per call, all calls side by side
    assert delivery.backlog == 300
    sink.release.set()
    await asyncio.wait_for(delivery.drain(), 5)
    assert delivery.backlog == 0
    for call in range(100):
        assert [k for k in sink.stored if k.startswith(f"{call}:")] == [f"{call}:{n}" for n in range(3)]


async def test_a_refused_event_is_retried_ahead_of_its_calls_later_events_while_other_calls_go_on():
    sink = SlowSink(refuse="a")
    sink.release.set()
    delivery = InboundDelivery(sink, retry_initial=0.05, retry_max=0.1)
    delivery.put(event("a", 0))
    delivery.put(event("a", 1))
    delivery.put(event("b", 0))
    await asyncio.sleep(0.02)
    assert sink.stored == ["b:0"]  # call b did not wait for call a's retries
    await asyncio.wait_for(delivery.drain(), 5)
    assert sink.refusals == 2
    assert sink.stored == ["b:0", "a:0", "a:1"]
    await delivery.stop()
