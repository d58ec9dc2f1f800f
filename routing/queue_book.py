"""The queue's decision structure: who waits, which agents can take what, and who gets offered what.

A :class:`QueueBook` is pure and single-threaded; the queue actor owns one and feeds it messages:

* :meth:`QueueBook.add` a waiting conversation (again with the same ``enqueued_at`` to requeue it with
  its waited time kept), :meth:`QueueBook.remove` one that left (abandoned, moved elsewhere);
* :meth:`QueueBook.put_agent` / :meth:`QueueBook.drop_agent` when queue membership changes,
  :meth:`QueueBook.update_agent` with every :class:`~routing.availability.AgentAvailability` snapshot;
* :meth:`QueueBook.assign` after any of these: it returns the offers to make now.  An offered
  conversation is out of the waiting set and holds one slot of the agent's capacity until
  :meth:`QueueBook.accepted` or :meth:`QueueBook.declined` (reject, timeout, no capacity).  An agent
  is offered at most as many conversations at once as its snapshot's ``offer_room`` allows.  A
  ring-all book offers each conversation to every eligible agent free for it at once; the first accept
  takes it, and it waits again only when every one of them declined.

Waiting conversations are grouped by requirements (and by the agents who declined them).  Each group
keeps a heap ordered by the queue's :class:`~routing.priority.Ordering` key and the set of eligible
agents, computed once per group and per agent change; a decision intersects that set with the agents
offerable on the channel, so its cost does not grow with the number waiting.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from routing.availability import OFFERABLE, SIGNED_IN, AgentAvailability, AgentSlot, AgentSlots
from routing.priority import Ordering
from routing.skills import AgentProfile, Requirements
from routing.strategies import Strategy
from routing.waiting import EMPTY_ATTRIBUTES, Group, Offer, WaitingConversation

__all__ = ["Offer", "QueueBook", "WaitingConversation"]

class QueueBook:
    """The waiting conversations and agents of one queue, and the routing decision over them."""

    def __init__(self, name: str, strategy: Strategy, ordering: Ordering | None = None, *,
                 ring_all: bool = False) -> None:
        self.name = name
        self.ring_all = ring_all
        self._ringing: dict[str, set[str]] = {}
        self.strategy = strategy
        self.ordering = ordering or Ordering()
        self._groups: dict[tuple[Requirements, frozenset[str]], Group] = {}
        self._by_channel: dict[str, set[Group]] = {}
        self._waiting: dict[str, WaitingConversation] = {}
        self._offered: dict[str, tuple[WaitingConversation, str]] = {}
        self._agents = AgentSlots()
        self._offerable: dict[str, set[str]] = {}
        self._order = itertools.count()
        self._sequence = itertools.count()

    # ----- conversations -------------------------------------------------------------------------

    def add(self, conversation_id: str, requirements: Requirements, *, enqueued_at: float,
            priority: str = "normal", attributes: Mapping[str, Any] | None = None,
            preferred_agent: str | None = None) -> WaitingConversation:
        """Put a conversation in the waiting set.  ``enqueued_at`` is when it first began to wait for an
        agent: pass the original instant on a requeue so it keeps its place and its waited time.  Adding
        an id that is already waiting updates it in place (idempotent); one out on offer is left alone."""
        if conversation_id in self._offered:
            return self._offered[conversation_id][0]
        existing = self._waiting.get(conversation_id)
        declined = existing.declined_by if existing is not None else frozenset()
        if existing is not None:
            self._unlink(existing)
        conversation = WaitingConversation(conversation_id, priority, enqueued_at, requirements,
                                           attributes if attributes is not None else EMPTY_ATTRIBUTES,
                                           preferred_agent, declined)
        self._link(conversation)
        return conversation

    def remove(self, conversation_id: str) -> WaitingConversation | None:
        """Take a conversation out (abandoned, moved, resolved); also withdraws an outstanding offer."""
        conversation = self._waiting.pop(conversation_id, None)
        if conversation is not None:
            self._unlink(conversation, forget=False)
            return conversation
        offered = self._offered.pop(conversation_id, None)
        if offered is None:
            return None
        conversation, agent_id = offered
        for agent in {agent_id} | self._ringing.pop(conversation_id, set()):
            self._release(agent, conversation_id)
        return conversation

    def widen(self, conversation_id: str, requirements: Requirements) -> bool:
        """Change the requirements of a waiting conversation (bullseye widening), keeping its place."""
        conversation = self._waiting.get(conversation_id)
        if conversation is None:
            return False
        self._unlink(conversation)
        conversation.requirements = requirements
        self._link(conversation)
        return True

    def set_priority(self, conversation_id: str, priority: str) -> bool:
        """Change the priority of a waiting conversation (escalation); its enqueued_at is kept."""
        conversation = self._waiting.get(conversation_id)
        if conversation is None:
            return False
        self._unlink(conversation)
        conversation.priority = priority
        self._link(conversation)
        return True

    def get(self, conversation_id: str) -> WaitingConversation | None:
        found = self._waiting.get(conversation_id)
        if found is None and conversation_id in self._offered:
            return self._offered[conversation_id][0]
        return found

    def __len__(self) -> int:
        """The number of conversations waiting (offers out not counted)."""
        return len(self._waiting)

    def __contains__(self, conversation_id: object) -> bool:
        return conversation_id in self._waiting or conversation_id in self._offered

    def waiting(self) -> Iterator[WaitingConversation]:
        return iter(self._waiting.values())

    def longest_wait(self, now: float) -> float:
        """Seconds the longest-waiting conversation has waited (a full scan: for dashboards)."""
        return max((now - c.enqueued_at for c in self._waiting.values()), default=0.0)

    def best_key(self) -> float:
        """The ordering key of the best waiting conversation (lower is better; inf when none wait).
        Queues sharing one :class:`~routing.priority.Ordering` compare by it."""
        return min((group.head()[0] for group in self._groups.values() if group.size), default=float("inf"))

    def score(self, conversation: WaitingConversation, now: float) -> float:
        return self.ordering.score(conversation.priority, conversation.enqueued_at, now)

    # ----- agents --------------------------------------------------------------------------------

    def put_agent(self, profile: AgentProfile, availability: AgentAvailability | None = None) -> None:
        """Make an agent a member of this queue, or replace their profile (skills changed)."""
        slot = self._agents.get(profile.agent_id)
        if slot is None:
            slot = self._agents[profile.agent_id] = AgentSlot(profile, next(self._order))
        else:
            slot.profile = profile
        for members in self._offerable.values():
            members.discard(profile.agent_id)
        slot.channel_sets = [(channel, self._offerable.setdefault(channel, set())) for channel in profile.capacity]
        agent_id = profile.agent_id
        slot.groups = {}
        for group in self._groups.values():
            if agent_id not in group.excluded and profile.satisfies(group.requirements):
                group.eligible.add(agent_id)
                slot.groups.setdefault(group.channel, set()).add(group)
            else:
                group.eligible.discard(agent_id)
        if availability is not None:
            slot.apply(availability)
        self._agents.refresh(slot)
        self._reindex(slot)

    def drop_agent(self, agent_id: str) -> list[WaitingConversation]:
        """Remove an agent from the queue; conversations on offer to them go back to waiting."""
        slot = self._agents.discard(agent_id)
        if slot is None:
            return []
        for members in self._offerable.values():
            members.discard(agent_id)
        for groups in slot.groups.values():
            for group in groups:
                group.eligible.discard(agent_id)
        returned = []
        for conversation_id in list(slot.holds):
            if self._stop_ringing(conversation_id, agent_id):
                continue
            offered = self._offered.pop(conversation_id, None)
            if offered is not None:
                self._link(offered[0])
                returned.append(offered[0])
        return returned

    def update_agent(self, availability: AgentAvailability) -> bool:
        """Apply an agent's availability snapshot; False when the agent is not a member."""
        agents = self._agents
        agent_id = availability[0]
        slot = agents.get(agent_id)
        if slot is None:
            return False
        slot.apply(availability)
        agents.idle_keys[agent_id] = (slot.idle_since, slot.order)
        self._reindex(slot)
        return True

    def agent(self, agent_id: str) -> AgentSlot | None:
        return self._agents.get(agent_id)

    def agents(self) -> AgentSlots:
        return self._agents

    def staffed(self, requirements: Requirements) -> bool:
        """True when some signed-in agent of this queue could take conversations with these
        requirements (workflow targets are skipped at once when not)."""
        group = self._group(requirements, frozenset())
        agents = self._agents
        return any(agents[a].status in SIGNED_IN for a in group.eligible)

    def offerable_count(self, channel: str) -> int:
        return len(self._offerable.get(channel, ()))

    # ----- decisions -----------------------------------------------------------------------------

    def assign(self, now: float) -> list[Offer]:
        """Pair waiting conversations with agents who can take them now, best conversation first.

        Each offer holds one slot of the agent's capacity on the conversation's channel until the
        outcome is reported, so the same free slot is never offered twice."""
        offerable = self._offerable
        heads = []
        for channel, groups in self._by_channel.items():
            free = offerable.get(channel)
            if not free or not groups:
                continue
            for group in (groups if len(free) * 8 >= len(groups) else self._groups_of(free, channel)):
                if group.size and not group.eligible.isdisjoint(free):
                    entry = group.head()
                    heads.append((entry[0], entry[1], entry[2], group))
        if not heads:
            return []
        if len(heads) > 1:
            heapq.heapify(heads)
        offers: list[Offer] = []
        while heads:
            group = heapq.heappop(heads)[3] if len(heads) > 1 else heads.pop()[3]
            free = offerable[group.channel]
            if not free:
                continue
            candidates = group.eligible & free
            if not candidates:
                continue
            offers.append(self._offer(group, candidates, free, now))
            if group.size and free and not group.eligible.isdisjoint(free):
                entry = group.head()
                heapq.heappush(heads, (entry[0], entry[1], entry[2], group))
        return offers

    def _groups_of(self, free: set[str], channel: str) -> set[Group]:
        """The groups the few offerable agents are eligible for: under load, when few agents are free,
        a decision looks at these instead of every group of the channel."""
        agents = self._agents
        found: set[Group] = set()
        for agent_id in free:
            found.update(agents[agent_id].groups.get(channel, ()))
        return found

    def _offer(self, group: Group, candidates: set[str], free: set[str], now: float) -> Offer:
        """Offer the head of ``group`` (validated when it entered the decision's heads) to the strategy's
        pick among ``candidates`` and hold the slot."""
        conversation = group.pop_head()
        if not group.size and group.excluded:
            self._forget_group(group)
        agents, strategy = self._agents, self.strategy
        agent_id = strategy.select(candidates, conversation, agents, now)
        if strategy.remembers:
            strategy.assigned(agent_id, agents)
        conversation_id = conversation.conversation_id
        del self._waiting[conversation_id]
        self._offered[conversation_id] = (conversation, agent_id)
        slot = agents[agent_id]
        channel = group.channel
        slot.hold(conversation_id, channel)
        if slot.free_on(channel) <= 0:
            self._reindex(slot)  # out of this channel, and out of all when its offer room is used up
        if not self.ring_all or len(candidates) < 2:
            return Offer(conversation, agent_id)
        ringing = tuple(sorted(candidates - {agent_id}))
        for other in ringing:
            other_slot = agents[other]
            other_slot.hold(conversation_id, channel)
            if other_slot.free_on(channel) <= 0:
                self._reindex(other_slot)
        self._ringing[conversation_id] = set(ringing)
        return Offer(conversation, agent_id, ringing)

    def accepted(self, conversation_id: str, agent_id: str | None = None) -> WaitingConversation | None:
        """The agent (``agent_id``, by default the one offered) took the offer: the conversation leaves
        the queue and the other agents rung for it are free again.  The taker's capacity hold stays
        until the agent's next snapshot, which counts the conversation itself."""
        offered = self._offered.pop(conversation_id, None)
        if offered is None:
            return None
        conversation, offered_to = offered
        agent_id = agent_id or offered_to
        for other in ({offered_to} | self._ringing.pop(conversation_id, set())) - {agent_id}:
            self._release(other, conversation_id)
        slot = self._agents.get(agent_id)
        if slot is not None and conversation_id in slot.holds:
            slot.accepted.add(conversation_id)
        return conversation

    def declined(self, conversation_id: str, *, exclude: bool = True,
                 agent_id: str | None = None) -> WaitingConversation | None:
        """The offer was rejected or timed out (or the agent had no capacity after all): the
        conversation waits again with its place kept; with ``exclude`` it is not offered to that agent
        again while it stays in this queue.  In a ring-all queue, ``agent_id`` names who declined: the
        conversation stays out (None is returned) while others are still rung for it."""
        if agent_id is not None and self._stop_ringing(conversation_id, agent_id, exclude=exclude):
            return None
        offered = self._offered.pop(conversation_id, None)
        if offered is None:
            return None
        conversation, offered_to = offered
        declined = {offered_to} | self._ringing.pop(conversation_id, set())
        for agent in declined:
            self._release(agent, conversation_id)
        if exclude:
            conversation.declined_by = conversation.declined_by | declined
        self._link(conversation)
        return conversation

    def _stop_ringing(self, conversation_id: str, agent_id: str, *, exclude: bool = True) -> bool:
        """One of several agents rung for a conversation is out of it; False when it was the last."""
        ringing = self._ringing.get(conversation_id)
        if not ringing or conversation_id not in self._offered:
            return False
        conversation, offered_to = self._offered[conversation_id]
        everyone = ringing | {offered_to}
        if agent_id not in everyone:
            return False
        everyone.discard(agent_id)
        self._release(agent_id, conversation_id)
        if exclude:
            conversation.declined_by = conversation.declined_by | {agent_id}
        lead = offered_to if offered_to != agent_id else min(everyone)
        self._offered[conversation_id] = (conversation, lead)
        everyone.discard(lead)
        if everyone:
            self._ringing[conversation_id] = everyone
        else:
            del self._ringing[conversation_id]
        return True

    def offered_to(self, conversation_id: str) -> str | None:
        offered = self._offered.get(conversation_id)
        return offered[1] if offered is not None else None

    # ----- internals -----------------------------------------------------------------------------

    def _group(self, requirements: Requirements, excluded: frozenset[str]) -> Group:
        key = (requirements, excluded)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = Group(requirements, excluded, self._waiting)
            channel = requirements.channel
            self._by_channel.setdefault(channel, set()).add(group)
            for agent_id, slot in self._agents.items():
                if agent_id not in excluded and slot.profile.satisfies(requirements):
                    group.eligible.add(agent_id)
                    slot.groups.setdefault(channel, set()).add(group)
        return group

    def _forget_group(self, group: Group) -> None:
        """Drop an emptied group of declined conversations (plain groups are kept for reuse)."""
        del self._groups[(group.requirements, group.excluded)]
        self._by_channel[group.channel].discard(group)
        agents = self._agents
        for agent_id in group.eligible:
            agents[agent_id].groups.get(group.channel, set()).discard(group)

    def _link(self, conversation: WaitingConversation) -> None:
        group = self._groups.get((conversation.requirements, conversation.declined_by)) \
            or self._group(conversation.requirements, conversation.declined_by)
        ordering = self.ordering
        key = ordering.aging_per_second * conversation.enqueued_at - ordering.points.get(conversation.priority, 0.0)
        sequence = next(self._sequence)
        conversation.sequence = sequence
        conversation.group = group
        heapq.heappush(group.heap, (key, conversation.enqueued_at, sequence, conversation.conversation_id))
        group.size += 1
        self._waiting[conversation.conversation_id] = conversation

    def _unlink(self, conversation: WaitingConversation, forget: bool = True) -> None:
        group = conversation.group
        if group is not None:
            group.size -= 1
            if not group.size:
                group.heap.clear()
                if group.excluded:
                    self._forget_group(group)
            conversation.sequence = -1
            conversation.group = None
        if forget:
            self._waiting.pop(conversation.conversation_id, None)

    def _release(self, agent_id: str, conversation_id: str) -> None:
        slot = self._agents.get(agent_id)
        if slot is not None and slot.release(conversation_id):
            self._reindex(slot)

    def _reindex(self, slot: AgentSlot) -> None:
        agent_id = slot.profile.agent_id
        if slot.status not in OFFERABLE:
            for _, members in slot.channel_sets:
                members.discard(agent_id)
            return
        for channel, members in slot.channel_sets:
            if slot.free_on(channel) > 0:
                members.add(agent_id)
            else:
                members.discard(agent_id)
