"""What a queue book keeps about waiting conversations: the conversation record, the offer it
decides, and the groups of conversations with the same requirements (each a heap by ordering key with
its set of eligible agents)."""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from typing import Any, NamedTuple

from routing.skills import Requirements

EMPTY_ATTRIBUTES: Mapping[str, Any] = {}


class WaitingConversation:
    """One conversation known to a queue book (waiting or out on offer)."""

    __slots__ = ("conversation_id", "priority", "enqueued_at", "requirements", "attributes",
                 "preferred_agent", "declined_by", "sequence", "group")

    def __init__(self, conversation_id: str, priority: str, enqueued_at: float, requirements: Requirements,
                 attributes: Mapping[str, Any], preferred_agent: str | None,
                 declined_by: frozenset[str]) -> None:
        self.conversation_id = conversation_id
        self.priority = priority
        self.enqueued_at = enqueued_at
        self.requirements = requirements
        self.attributes = attributes
        self.preferred_agent = preferred_agent
        self.declined_by = declined_by
        self.sequence = -1  # of its current heap entry; -1 when not in a heap
        self.group: Group | None = None

    def __repr__(self) -> str:
        return (f"WaitingConversation({self.conversation_id!r}, {self.priority!r}, "
                f"enqueued_at={self.enqueued_at}, {self.requirements})")


class Offer(NamedTuple):
    """A decision of :meth:`QueueBook.assign`: offer ``conversation`` to ``agent_id`` now (and, in a
    ring-all queue, to the ``ringing`` agents at the same time: the first to accept takes it)."""

    conversation: WaitingConversation
    agent_id: str
    ringing: tuple[str, ...] = ()


#: A heap entry: (ordering key, enqueued_at, sequence, conversation id).  Plain values only, so the
#: cyclic garbage collector stops tracking entries: 10,000 waiting add no collector work.
_Entry = tuple[float, float, int, str]


class Group:
    """Waiting conversations with the same requirements and the same declining agents.  Entries of
    conversations that left or moved stay in the heap until they surface (lazy deletion)."""

    __slots__ = ("requirements", "excluded", "channel", "heap", "size", "eligible", "waiting")

    def __init__(self, requirements: Requirements, excluded: frozenset[str],
                 waiting: dict[str, WaitingConversation]) -> None:
        self.requirements = requirements
        self.excluded = excluded
        self.channel = requirements.channel
        self.heap: list[_Entry] = []
        self.size = 0
        self.eligible: set[str] = set()
        self.waiting = waiting

    def head(self) -> _Entry:
        heap, waiting = self.heap, self.waiting
        while True:
            entry = heap[0]
            conversation = waiting.get(entry[3])
            if conversation is not None and conversation.sequence == entry[2]:
                return entry
            heapq.heappop(heap)

    def pop_head(self) -> WaitingConversation:
        """Take out the head conversation; the caller has validated the head with :meth:`head` and not
        changed the group since."""
        entry = heapq.heappop(self.heap)
        self.size -= 1
        conversation = self.waiting[entry[3]]
        conversation.sequence = -1
        conversation.group = None
        return conversation
