"""Agent selection strategies: one small class per strategy behind :class:`Strategy`.

The queue book hands a strategy the agents that may take the conversation now (eligible by skills,
signed in, with free capacity on the channel) and the strategy picks one.  Queues name their strategy
in config; :func:`strategy_named` builds it.  ``sticky = true`` on a queue wraps its strategy in
:class:`PreferredAgent`, which first tries the agent who last served the client.
"""

from __future__ import annotations

import abc
from collections.abc import Collection
from typing import TYPE_CHECKING, ClassVar

from routing.availability import AgentSlots

if TYPE_CHECKING:
    from routing.waiting import WaitingConversation

Slots = AgentSlots


class Strategy(abc.ABC):
    """Picks one agent among ``candidates`` (never empty) for ``conversation``."""

    name: ClassVar[str]
    #: Whether :meth:`assigned` must be called after each pick (strategies with memory).
    remembers: bool = False

    @abc.abstractmethod
    def select(self, candidates: Collection[str], conversation: WaitingConversation, agents: Slots,
               now: float) -> str: ...

    def assigned(self, agent_id: str, agents: Slots) -> None:  # noqa: B027 - most strategies keep no memory
        """Told after each pick; strategies with memory (round robin) update it here."""


class LongestIdle(Strategy):
    """The agent idle the longest (earliest ``idle_since``), as ACDs do by default."""

    name = "longest_idle"

    def select(self, candidates: Collection[str], conversation: WaitingConversation, agents: Slots,
               now: float) -> str:
        if len(candidates) == 1:
            return next(iter(candidates))
        return min(candidates, key=agents.idle_keys.__getitem__)


class RoundRobin(Strategy):
    """Agents in turn, in the order they joined the queue, continuing after the last one picked."""

    name = "round_robin"
    remembers = True

    def __init__(self) -> None:
        self.last_order = -1

    def select(self, candidates: Collection[str], conversation: WaitingConversation, agents: Slots,
               now: float) -> str:
        last = self.last_order
        return min(candidates, key=lambda a: (agents[a].order <= last, agents[a].order))

    def assigned(self, agent_id: str, agents: Slots) -> None:
        self.last_order = agents[agent_id].order


class BestSkillMatch(Strategy):
    """The agent with the highest levels on the required skills; ties go to the longest idle."""

    name = "best_skill"

    def select(self, candidates: Collection[str], conversation: WaitingConversation, agents: Slots,
               now: float) -> str:
        requirements = conversation.requirements

        idle = agents.idle_keys

        def key(agent_id: str) -> tuple[int, tuple[float, int]]:
            return -agents[agent_id].profile.match_score(requirements), idle[agent_id]
        return min(candidates, key=key)


class LeastOccupied(Strategy):
    """The agent using the smallest share of their capacity (blended chat/e-mail work); ties: idle."""

    name = "least_occupied"

    def select(self, candidates: Collection[str], conversation: WaitingConversation, agents: Slots,
               now: float) -> str:
        idle = agents.idle_keys

        def key(agent_id: str) -> tuple[float, tuple[float, int]]:
            return agents[agent_id].occupancy, idle[agent_id]
        return min(candidates, key=key)


class PreferredAgent(Strategy):
    """Sticky routing: the agent who last served the client when they can take it now, else ``inner``."""

    def __init__(self, inner: Strategy) -> None:
        self.inner = inner
        self.name = f"sticky+{inner.name}"  # type: ignore[misc]
        self.remembers = inner.remembers

    def select(self, candidates: Collection[str], conversation: WaitingConversation, agents: Slots,
               now: float) -> str:
        preferred = conversation.preferred_agent
        if preferred is not None and preferred in candidates:
            return preferred
        return self.inner.select(candidates, conversation, agents, now)

    def assigned(self, agent_id: str, agents: Slots) -> None:
        self.inner.assigned(agent_id, agents)


STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (LongestIdle, RoundRobin, BestSkillMatch, LeastOccupied)
}


def strategy_named(name: str, *, sticky: bool = False) -> Strategy:
    """A fresh strategy for one queue (strategies with memory must not be shared between queues)."""
    try:
        strategy = STRATEGIES[name]()
    except KeyError:
        raise ValueError(f"unknown strategy {name!r} (known: {', '.join(sorted(STRATEGIES))})") from None
    return PreferredAgent(strategy) if sticky else strategy
