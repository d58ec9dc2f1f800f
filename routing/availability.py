"""What an agent actor pushes to each queue it serves, and the queue book's view of one agent.

The agent actor is the single authority over its capacity: after every change it sends an
:class:`AgentAvailability` snapshot to its queues.  A queue book adds its own offers not yet reflected
in a snapshot (holds), so one agent's last free slot is never offered twice by the same queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple

from routing.skills import AgentProfile


class AgentStatus(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    BUSY = "busy"
    WRAP_UP = "wrap_up"
    BREAK = "break"


#: States in which an agent may be offered new work (subject to free capacity on the channel).
OFFERABLE = frozenset({AgentStatus.AVAILABLE, AgentStatus.BUSY})
#: States in which an agent counts as staffing a queue (signed in and working, not on a break).
SIGNED_IN = frozenset({AgentStatus.AVAILABLE, AgentStatus.BUSY, AgentStatus.WRAP_UP})


class AgentAvailability(NamedTuple):
    """One agent's state as the agent actor sees it.

    ``free`` is the free capacity per channel counting every conversation the agent holds or has been
    offered; ``engaged`` names those conversations; ``idle_since`` is when the agent last had nothing to
    do (longest-idle routing); ``occupancy`` is the used share of capacity, 0..1 (least-occupied routing);
    ``offer_room`` is how many more offers may be pending at once (the agent's ``pending_offers``).
    """

    agent_id: str
    status: AgentStatus
    free: Mapping[str, int] = MappingProxyType({})
    idle_since: float = 0.0
    engaged: frozenset[str] = frozenset()
    occupancy: float = 0.0
    offer_room: int = 1


class AgentSlot:
    """The queue book's mutable view of one agent: profile, latest snapshot and the book's own holds."""

    __slots__ = ("profile", "order", "status", "free", "idle_since", "occupancy", "holds", "accepted",
                 "held", "channel_sets", "groups", "offer_room")

    def __init__(self, profile: AgentProfile, order: int) -> None:
        self.profile = profile
        self.order = order
        self.status = AgentStatus.OFFLINE
        self.free: dict[str, int] = {}
        self.idle_since = 0.0
        self.occupancy = 0.0
        self.offer_room = 1
        self.holds: dict[str, str] = {}
        self.accepted: set[str] = set()
        self.held: dict[str, int] = {}
        self.channel_sets: list[tuple[str, set[str]]] = []
        self.groups: dict[str, set[Any]] = {}

    def free_on(self, channel: str) -> int:
        """Free capacity on ``channel`` after this book's holds not yet seen in a snapshot; none when the
        agent has as many offers pending as it may."""
        if self.offer_room <= len(self.holds) - len(self.accepted):
            return 0
        return self.free.get(channel, 0) - self.held.get(channel, 0)

    def offerable_on(self, channel: str) -> bool:
        return self.status in OFFERABLE and self.free_on(channel) > 0

    def apply(self, availability: AgentAvailability) -> None:
        """Take a new snapshot; holds it already counts (engaged) or that were accepted are dropped."""
        _, self.status, free, self.idle_since, engaged, self.occupancy, self.offer_room = availability
        self.free = dict(free)
        if self.holds:
            accepted = self.accepted
            for conversation_id in tuple(self.holds):
                if conversation_id in engaged or conversation_id in accepted:
                    self.release(conversation_id)

    def hold(self, conversation_id: str, channel: str) -> None:
        """Count an offer of this book against the agent's capacity until a snapshot includes it."""
        if conversation_id not in self.holds:
            self.holds[conversation_id] = channel
            self.held[channel] = self.held.get(channel, 0) + 1

    def release(self, conversation_id: str) -> bool:
        channel = self.holds.pop(conversation_id, None)
        if channel is None:
            return False
        self.held[channel] -= 1
        self.accepted.discard(conversation_id)
        return True


class AgentSlots(dict[str, AgentSlot]):
    """A queue book's agents by id, with ``idle_keys`` ((idle_since, join order) by agent id) kept beside
    them so that longest-idle selection runs its comparisons without Python-level key functions."""

    def __init__(self) -> None:
        super().__init__()
        self.idle_keys: dict[str, tuple[float, int]] = {}

    def refresh(self, slot: AgentSlot) -> None:
        self.idle_keys[slot.profile.agent_id] = (slot.idle_since, slot.order)

    def discard(self, agent_id: str) -> AgentSlot | None:
        self.idle_keys.pop(agent_id, None)
        return self.pop(agent_id, None)
