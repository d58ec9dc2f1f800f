"""The agent state machine: offline / available / busy / wrap-up / break, with capacity per channel.

The agent actor owns one :class:`AgentState` and is the single authority over the agent's capacity: an
offer from a queue is only a request (:meth:`AgentState.reserve` may refuse it), and after every change
the actor pushes :meth:`AgentState.availability` to the agent's queues.

Capacity limits what an agent *holds*; how many offers are *pending* at once is a setting of its own
(``pending_offers``, one by default): while that many wait for an answer the agent is offered nothing
more.  Only an offer the desktop acknowledged as displayed (:meth:`AgentState.shown`) counts as missed
when it times out; an offer nobody saw goes back without blame.  Timers are the actor's: the
methods return the instants at which it must call back (end of wrap-up).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from routing.availability import OFFERABLE, AgentAvailability, AgentStatus
from routing.skills import VOICE, AgentProfile

MISSED_OFFERS = "missed_offers"


class AgentStateError(ValueError):
    """A transition that is not allowed from the agent's current state."""


@dataclass(frozen=True, slots=True)
class MissOutcome:
    """After a rejected or timed-out offer: the count of consecutive misses and whether the agent was
    put on break for it (reason :data:`MISSED_OFFERS`)."""

    misses: int
    put_on_break: bool
    counted: bool = True


class AgentState:
    """One agent's working state.  All instants are seconds since the epoch (UTC)."""

    def __init__(self, profile: AgentProfile, *, wrap_up: Mapping[str, float] | None = None,
                 max_misses: int = 3, pending_offers: int = 1) -> None:
        self.profile = profile
        self.capacity: dict[str, int] = dict(profile.capacity)
        self.wrap_up: dict[str, float] = dict(wrap_up if wrap_up is not None else {VOICE: 30.0})
        self.max_misses = max_misses
        self.pending_offers = pending_offers  # 0: no limit beyond capacity
        self.misses = 0
        self.break_reason: str | None = None
        self.wrap_up_until: float | None = None
        self.idle_since = 0.0
        self.in_hand: dict[str, str] = {}
        self.offers: dict[str, str] = {}
        self.displayed: set[str] = set()
        self._mode = AgentStatus.OFFLINE

    @property
    def agent_id(self) -> str:
        return self.profile.agent_id

    @property
    def status(self) -> AgentStatus:
        """offline, break and wrap-up are set explicitly; otherwise busy while holding work."""
        if self._mode is not AgentStatus.AVAILABLE:
            return self._mode
        return AgentStatus.BUSY if self.in_hand or self.offers else AgentStatus.AVAILABLE

    def offer_room(self) -> int:
        """How many more offers the agent may have pending now (capacity aside)."""
        if not self.pending_offers:
            return sum(self.capacity.values())
        return max(0, self.pending_offers - len(self.offers))

    def free(self, channel: str) -> int:
        """Free capacity on ``channel`` for a new offer: none while the agent has its pending offers."""
        if not self.offer_room():
            return 0
        used = sum(1 for c in self.in_hand.values() if c == channel) + \
            sum(1 for c in self.offers.values() if c == channel)
        return max(0, self.capacity.get(channel, 0) - used)

    def availability(self) -> AgentAvailability:
        """The snapshot to push to every queue the agent serves after each change."""
        total = sum(self.capacity.values())
        used = len(self.in_hand) + len(self.offers)
        return AgentAvailability(
            agent_id=self.agent_id, status=self.status,
            free={channel: self.free(channel) for channel in self.capacity},
            idle_since=self.idle_since, engaged=frozenset(self.in_hand) | frozenset(self.offers),
            occupancy=used / total if total else 1.0, offer_room=self.offer_room())

    def set_capacity(self, channel: str, slots: int) -> None:
        if slots < 0:
            raise AgentStateError(f"capacity for {channel!r} must not be negative")
        self.capacity[channel] = slots

    # ----- presence ------------------------------------------------------------------------------

    def sign_in(self, now: float) -> None:
        if self._mode is AgentStatus.OFFLINE:
            self._mode = AgentStatus.AVAILABLE
            self.idle_since = now
            self.misses = 0

    def sign_out(self, now: float) -> list[str]:
        """Go offline.  Returns every conversation the agent held or was offered: the actor returns
        each to its queue with its priority and original enqueued_at (its waited time is kept)."""
        returned = list(self.in_hand) + list(self.offers)
        self.in_hand.clear()
        self.offers.clear()
        self.displayed.clear()
        self._mode = AgentStatus.OFFLINE
        self.break_reason = None
        self.wrap_up_until = None
        return returned

    def start_break(self, reason: str, now: float) -> None:
        """Stop receiving offers; conversations in hand continue."""
        if self._mode is AgentStatus.OFFLINE:
            raise AgentStateError("an offline agent cannot go on break")
        self._mode = AgentStatus.BREAK
        self.break_reason = reason
        self.wrap_up_until = None

    def end_break(self, now: float) -> None:
        if self._mode is AgentStatus.BREAK:
            self._mode = AgentStatus.AVAILABLE
            self.break_reason = None
            self.misses = 0
            self.idle_since = now

    # ----- offers and conversations --------------------------------------------------------------

    def reserve(self, conversation_id: str, channel: str, now: float) -> bool:
        """An offer arrives.  False (the queue must requeue without blaming the agent) when the agent is
        not taking work or has no free capacity on the channel; true and one slot held otherwise."""
        if conversation_id in self.offers or conversation_id in self.in_hand:
            return True
        if self.status not in OFFERABLE or self.free(channel) <= 0:  # free is 0 without offer room
            return False
        self.offers[conversation_id] = channel
        return True

    def accept(self, conversation_id: str, now: float) -> None:
        if conversation_id in self.in_hand:
            return
        channel = self.offers.pop(conversation_id, None)
        if channel is None:
            raise AgentStateError(f"no offer of {conversation_id!r} to accept")
        self.displayed.discard(conversation_id)
        self.in_hand[conversation_id] = channel
        self.misses = 0

    def shown(self, conversation_id: str) -> bool:
        """The desktop displayed the offer of ``conversation_id``; False when no such offer is pending."""
        if conversation_id not in self.offers:
            return False
        self.displayed.add(conversation_id)
        return True

    def reject(self, conversation_id: str, now: float) -> MissOutcome:
        """The agent declined an offer (the agent saw it, so it is a miss)."""
        return self._miss(conversation_id)

    def offer_timed_out(self, conversation_id: str, now: float) -> MissOutcome:
        """Nobody answered the offer: a miss when it was displayed, otherwise released without blame."""
        if conversation_id in self.offers and conversation_id not in self.displayed:
            self.release(conversation_id, now)
            return MissOutcome(self.misses, False, counted=False)
        return self._miss(conversation_id)

    def _miss(self, conversation_id: str) -> MissOutcome:
        self.displayed.discard(conversation_id)
        if self.offers.pop(conversation_id, None) is None:
            return MissOutcome(self.misses, False)
        self.misses += 1
        if self.max_misses and self.misses >= self.max_misses and self._mode is AgentStatus.AVAILABLE:
            self._mode = AgentStatus.BREAK
            self.break_reason = MISSED_OFFERS
            return MissOutcome(self.misses, True)
        return MissOutcome(self.misses, False)

    def take(self, conversation_id: str, channel: str, now: float) -> None:
        """A conversation handed directly to this agent (transfer to a named agent, supervisor action)."""
        self.offers.pop(conversation_id, None)
        self.displayed.discard(conversation_id)
        self.in_hand[conversation_id] = channel

    def finish(self, conversation_id: str, now: float) -> float | None:
        """The agent is done with a conversation.  Returns the instant wrap-up ends (the actor sets a
        timer and then calls :meth:`wrap_up_done`), or None when the channel has no wrap-up."""
        channel = self.in_hand.pop(conversation_id, None)
        if channel is None:
            return None
        seconds = self.wrap_up.get(channel, 0.0)
        if seconds > 0 and self._mode is AgentStatus.AVAILABLE:
            self._mode = AgentStatus.WRAP_UP
            self.wrap_up_until = max(self.wrap_up_until or 0.0, now + seconds)
            return self.wrap_up_until
        if not self.in_hand and not self.offers and self._mode is AgentStatus.AVAILABLE:
            self.idle_since = now
        return None

    def release(self, conversation_id: str, now: float) -> None:
        """The conversation left the agent without wrap-up (transferred away, taken back)."""
        self.offers.pop(conversation_id, None)
        self.displayed.discard(conversation_id)
        self.in_hand.pop(conversation_id, None)
        if not self.in_hand and not self.offers and self._mode is AgentStatus.AVAILABLE:
            self.idle_since = now

    def wrap_up_done(self, now: float) -> bool:
        """The wrap-up timer fired.  False when it is stale (wrap-up was extended or left earlier)."""
        if self._mode is not AgentStatus.WRAP_UP or (self.wrap_up_until or 0.0) > now:
            return False
        self._mode = AgentStatus.AVAILABLE
        self.wrap_up_until = None
        if not self.in_hand:
            self.idle_since = now
        return True
