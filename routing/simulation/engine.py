"""A discrete-event simulation of the contact centre that drives the real routing code.

Calls arrive as a Poisson process and are handled for exponentially distributed times; each arrival is
placed by the real :class:`~routing.workflow.Workflow` (filters, targets, widening on timeout, overflow)
into a real :class:`~routing.queue_book.QueueBook` per queue, whose strategy picks the agent.  Agents
accept every offer at once and push :class:`~routing.availability.AgentAvailability` snapshots to their
queues, as agent actors do.  The handle time is the whole time an agent is kept (talk and wrap-up), as
in Erlang C.  When an agent serving several queues frees up, the queue whose best waiting conversation
ranks highest is served first.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from routing.availability import AgentAvailability, AgentStatus
from routing.config import RoutingConfig
from routing.queue_book import QueueBook
from routing.simulation.report import ABANDONED, Report, summarise
from routing.skills import MAX_LEVEL, AgentProfile, Requirements
from routing.workflow import Overflow, Placement, Target

_DONE, _ABANDON, _WIDEN, _OVERFLOW = range(4)
_AVAILABLE, _BUSY = AgentStatus.AVAILABLE, AgentStatus.BUSY


@dataclass(frozen=True, slots=True)
class SimulatedAgent:
    """An agent of the simulated centre; ``queues`` None means a member of every queue."""

    profile: AgentProfile
    queues: tuple[str, ...] | None = None


class _Agent:
    __slots__ = ("agent_id", "books", "in_hand", "free", "idle_since")

    def __init__(self, profile: AgentProfile, books: list[QueueBook]) -> None:
        self.agent_id = profile.agent_id
        self.books = books
        self.in_hand: dict[str, str] = {}
        self.free = dict(profile.capacity)
        self.idle_since = 0.0

    def snapshot(self) -> AgentAvailability:
        in_hand = self.in_hand
        return AgentAvailability(self.agent_id, _BUSY if in_hand else _AVAILABLE, self.free,
                                 self.idle_since, frozenset(in_hand), offer_room=sum(self.free.values()))


class _Call:
    __slots__ = ("index", "arrived_at", "placement", "book", "entered_at")

    def __init__(self, index: int, arrived_at: float) -> None:
        self.index = index
        self.arrived_at = arrived_at
        self.placement: Placement | None = None
        self.book: QueueBook | None = None
        self.entered_at = arrived_at


def universal_agents(config: RoutingConfig, count: int, attributes: Mapping[str, Any]) -> list[SimulatedAgent]:
    """``count`` agents with every skill at the top level, the conversation's language and segment and
    every department: staffing figures without a skills mix."""
    departments = {q.department for q in config.queues.values() if q.department}
    extra = {name: {attributes[name]} if attributes.get(name) else set() for name in ("language", "segment")}
    return [SimulatedAgent(AgentProfile.of(f"agent-{n + 1}", dict.fromkeys(config.skills, MAX_LEVEL),
                                           languages=extra["language"], segments=extra["segment"],
                                           departments=departments, capacity=config.capacity))
            for n in range(count)]


class Simulation:
    """One run: build with the config and staffing, then :meth:`run`."""

    def __init__(self, config: RoutingConfig, agents: int | Sequence[SimulatedAgent], arrival_rate: float,
                 handle_time: float, *, seed: int = 1, attributes: Mapping[str, Any] | None = None,
                 patience: float | None = None, threshold: float = 20.0) -> None:
        if arrival_rate <= 0 or handle_time <= 0:
            raise ValueError("arrival rate and handle time must be positive")
        self.config = config
        self.attributes = dict(attributes or {"channel": "voice"})
        self.channel = str(self.attributes.get("channel", "voice"))
        self.arrival_rate = arrival_rate
        self.handle_time = handle_time
        self.patience = patience
        self.threshold = threshold
        self.random = random.Random(seed)
        self.books = {name: queue.new_book() for name, queue in config.queues.items()}
        self.overflows = {name: queue.overflow for name, queue in config.queues.items()}
        staff = universal_agents(config, agents, self.attributes) if isinstance(agents, int) else list(agents)
        if not staff:
            raise ValueError("at least one agent is needed")
        self.agents: dict[str, _Agent] = {}
        for member in staff:
            names = member.queues if member.queues is not None else tuple(self.books)
            books = [self.books[name] for name in names]
            agent = self.agents[member.profile.agent_id] = _Agent(member.profile, books)
            snapshot = agent.snapshot()
            for book in books:
                book.put_agent(member.profile, snapshot)
        self.events: list[tuple[float, int, int, Any]] = []
        self.sequence = itertools.count()
        self.calls: dict[str, _Call] = {}
        self.waits: list[float] = []
        self.warmup = 0
        self.busy = 0.0

    def _at(self, when: float, kind: int, payload: Any) -> None:
        heapq.heappush(self.events, (when, next(self.sequence), kind, payload))

    def _staffed(self, queue: str, requirements: Requirements) -> bool:
        return self.books[queue].staffed(requirements)

    def run(self, calls: int, *, warmup: int | None = None, batches: int = 30) -> Report:
        """Simulate ``warmup + calls`` arrivals (warm-up not measured) and serve every one of them."""
        warmup = max(1000, calls // 100) if warmup is None else warmup
        total = warmup + calls
        waits = [ABANDONED] * calls
        self.waits, self.warmup = waits, warmup
        self.busy = 0.0
        uniform, log = self.random.random, math.log
        between = 1.0 / self.arrival_rate
        patience = self.patience or 0.0
        overflows, books_by_queue = self.overflows, self.books
        workflow, attributes, calls_by_id = self.config.workflow, self.attributes, self.calls
        staffed = self._staffed
        events, pop, at = self.events, heapq.heappop, self._at
        dispatch, move = self._dispatch, self._move
        first_measured = last_arrival = 0.0
        # Arrivals are not heap events: the next one is kept aside and compared with the heap's top.
        index, next_arrival, infinity = 0, -log(1.0 - uniform()) * between, math.inf
        now = 0.0
        while True:
            if not events or next_arrival < events[0][0]:
                if index >= total:
                    break
                now = next_arrival
                if index == warmup:
                    first_measured = now
                last_arrival = now
                conversation_id = f"c{index}"
                call = calls_by_id[conversation_id] = _Call(index, now)
                index += 1
                next_arrival = now - log(1.0 - uniform()) * between if index < total else infinity
                placement = workflow.place(attributes, staffed=staffed)
                queue = placement.target.queue
                overflow = overflows[queue]
                if overflow is not None and overflow.full(len(books_by_queue[queue])):
                    placement = _overflow_placement(placement, overflow)
                move(conversation_id, call, placement, now)
                if patience:
                    at(now - log(1.0 - uniform()) * patience, _ABANDON, conversation_id)
                continue
            now, _, kind, payload = pop(events)
            if kind == _DONE:
                agent, conversation_id = payload
                channel = agent.in_hand.pop(conversation_id)
                agent.free[channel] += 1
                if not agent.in_hand:
                    agent.idle_since = now
                snapshot = agent.snapshot()
                books = agent.books
                for book in books:
                    book.update_agent(snapshot)
                if len(books) == 1:
                    if len(books[0]):
                        dispatch(books[0], now)
                else:
                    for book in sorted((b for b in books if len(b)), key=QueueBook.best_key):
                        dispatch(book, now)
            elif kind == _ABANDON:
                call = calls_by_id.pop(payload, None)
                if call is not None and call.book is not None:
                    call.book.remove(payload)  # its wait stays ABANDONED
            else:
                conversation_id, placement = payload
                call = calls_by_id.get(conversation_id)
                if call is None or call.placement is not placement:
                    continue
                if kind == _WIDEN:
                    widened = workflow.next_placement(placement, attributes, staffed=staffed)
                else:
                    overflow = overflows[placement.queue]
                    widened = _overflow_placement(placement, overflow) if overflow else None
                if widened is not None:
                    move(conversation_id, call, widened, now)
        staffed_seconds = (last_arrival - first_measured) * len(self.agents)
        return summarise(waits, self.threshold, batches, self.busy, staffed_seconds, now)

    def _move(self, conversation_id: str, call: _Call, placement: Placement, now: float) -> None:
        """Place a call (new, widened or overflowed) in its target queue and serve that queue."""
        queue = placement.target.queue
        book = self.books[queue]
        previous = call.book
        if previous is book:
            book.widen(conversation_id, placement.requirements)
            book.set_priority(conversation_id, placement.priority)
        else:
            if previous is not None:
                previous.remove(conversation_id)
            book.add(conversation_id, placement.requirements, enqueued_at=call.arrived_at,
                     priority=placement.priority)
            call.entered_at = now
        call.book, call.placement = book, placement
        if placement.target.timeout is not None:
            self._at(now + placement.target.timeout, _WIDEN, (conversation_id, placement))
        overflow = self.overflows[queue]
        if overflow is not None and overflow.after is not None:
            self._at(call.entered_at + overflow.after, _OVERFLOW, (conversation_id, placement))
        self._dispatch(book, now)

    def _dispatch(self, book: QueueBook, now: float) -> None:
        offers = book.assign(now)
        if not offers:
            return
        calls, agents, warmup, waits = self.calls, self.agents, self.warmup, self.waits
        uniform, log, mean = self.random.random, math.log, self.handle_time
        for offer in offers:
            conversation = offer.conversation
            conversation_id = conversation.conversation_id
            book.accepted(conversation_id)
            call = calls.pop(conversation_id)
            call.book = None
            agent = agents[offer.agent_id]
            channel = conversation.requirements.channel
            agent.in_hand[conversation_id] = channel
            agent.free[channel] -= 1
            if len(agent.books) > 1:
                # The offering queue already counts the slot (its hold); the agent's other queues
                # learn of it from the snapshot.
                snapshot = agent.snapshot()
                for member in agent.books:
                    if member is not book:
                        member.update_agent(snapshot)
            handle = -log(1.0 - uniform()) * mean
            measured = call.index - warmup
            if measured >= 0:
                waits[measured] = now - call.arrived_at
                self.busy += handle
            heapq.heappush(self.events, (now + handle, next(self.sequence), _DONE, (agent, conversation_id)))


def _overflow_placement(placement: Placement, overflow: Overflow) -> Placement:
    return Placement("overflow", 0, Target(overflow.to), Overflow.requirements(placement.requirements),
                     placement.priority)


def simulate(config: RoutingConfig, agents: int | Sequence[SimulatedAgent], arrival_rate: float,
             handle_time: float, calls: int, seed: int = 1, *, attributes: Mapping[str, Any] | None = None,
             patience: float | None = None, threshold: float = 20.0, warmup: int | None = None,
             batches: int = 30) -> Report:
    """What service level would this staffing and this workflow give?

    ``arrival_rate`` in calls per second, ``handle_time`` and ``patience`` (mean time before a waiting
    caller hangs up; None: nobody abandons) in seconds; ``attributes`` are the conversations' attributes
    as routing sees them (default a voice call)."""
    simulation = Simulation(config, agents, arrival_rate, handle_time, seed=seed, attributes=attributes,
                            patience=patience, threshold=threshold)
    return simulation.run(calls, warmup=warmup, batches=batches)
