"""The messages entity actors understand.  They cross process boundaries (Ray pickles them), so they are
small frozen dataclasses of plain values.

Addresses: ``ActorRef("conversation", thread_key)``, ``ActorRef("agent", str(user_id))``,
``ActorRef("queue", queue_name)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from routing.skills import AgentProfile, Requirements

# --- to a conversation ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboxDelivery:
    """An inbound item stored in the inbox (``inbox_id``); ``payload`` is the serialised ``Inbound``."""

    inbox_id: int
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AssignTo:
    """The queue's offer was accepted by ``agent_id``; succeeds only if ``offer_id`` is still current."""

    agent_id: int
    offer_id: str


@dataclass(frozen=True, slots=True)
class OfferMade:
    """The queue offered this conversation to an agent (the conversation records it)."""

    agent_id: int
    offer_id: str
    queue: str


@dataclass(frozen=True, slots=True)
class OfferWithdrawn:
    """The queue gave up an offer (rejected, timed out, withdrawn): the conversation waits again."""

    offer_id: str


@dataclass(frozen=True, slots=True)
class BackToQueue:
    """The agent went offline with the conversation in hand: wait in the queue again, with the priority
    and the waited time kept."""

    reason: str


@dataclass(frozen=True, slots=True)
class Overflow:
    """The queue is full (its overflow ``max_waiting`` reached): wait in ``to_queue`` instead."""

    from_queue: str
    to_queue: str


@dataclass(frozen=True, slots=True)
class Reply:
    """An agent's reply to the client, sent through the conversation's channel."""

    author_id: int
    text: str
    dedupe_key: str
    attachments: tuple[dict[str, Any], ...] = ()
    buttons: tuple[tuple[dict[str, str], ...], ...] = ()


@dataclass(frozen=True, slots=True)
class AddNote:
    """An internal note on the ticket, never sent to the client."""

    author_id: int
    text: str
    dedupe_key: str


@dataclass(frozen=True, slots=True)
class ChangeStatus:
    author: str
    status: str
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class Reclassify:
    """An agent corrects the automatic classification; only the given fields change."""

    author: str
    category: str | None = None
    type: str | None = None
    priority: str | None = None


@dataclass(frozen=True, slots=True)
class Transfer:
    """Move the conversation to a queue, a department (its first queue) or a named agent, with the reason
    recorded.  ``queue`` may also name a department."""

    author: str
    reason: str
    queue: str | None = None
    agent_id: int | None = None
    department: str | None = None


@dataclass(frozen=True, slots=True)
class GetConversation:
    """The conversation with its ticket, messages and client card, as the agent desktop shows it."""

    viewer: str = "system"


# --- to an agent ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetAgentState:
    state: str  # available | break | offline
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Offer:
    """A reservation: the queue offers a conversation to the agent until ``expires_in_s`` passes.
    ``preview`` is the start of the contact's first message (the desktop's offer card); with
    ``auto_accept`` the agent takes it at once (the queue's ``offer_mode``)."""

    offer_id: str
    conversation: str
    queue: str
    channel: str
    ticket_number: str | None
    summary: dict[str, Any] = field(default_factory=dict)
    expires_in_s: float = 30.0
    preview: str = ""
    auto_accept: bool = False
    ringing: bool = False  # rung at several agents at once: letting it ring is no miss
    conversation_id: int | None = None  # the conversation's public id (``conversation`` is its thread key)


@dataclass(frozen=True, slots=True)
class OfferShown:
    """The agent's desktop displayed the offer (only displayed offers count as missed)."""

    offer_id: str


@dataclass(frozen=True, slots=True)
class AcceptOffer:
    offer_id: str


@dataclass(frozen=True, slots=True)
class RejectOffer:
    offer_id: str
    reason: str = "rejected"


@dataclass(frozen=True, slots=True)
class WithdrawOffer:
    """The queue withdraws an open offer (the conversation left the queue or the offer expired there)."""

    offer_id: str
    reason: str = "withdrawn"


@dataclass(frozen=True, slots=True)
class ConversationReleased:
    """The conversation left the agent (resolved, transferred, closed): capacity is free again."""

    conversation: str
    channel: str
    wrap_up: bool = True


@dataclass(frozen=True, slots=True)
class ConversationPinned:
    """A conversation given to the agent directly (named transfer, telephony observe mode)."""

    conversation: str
    channel: str
    conversation_id: int | None = None


@dataclass(frozen=True, slots=True)
class GetAgent:
    pass


@dataclass(frozen=True, slots=True)
class ProfileChanged:
    """An administrator changed the agent's skills, queues or capacity: read them again (no restart)."""


# --- to a queue ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Enqueue:
    conversation: str
    channel: str
    ticket_number: str | None
    priority: str
    enqueued_at: float  # epoch seconds; kept when a conversation comes back to the queue
    attributes: dict[str, Any] = field(default_factory=dict)
    preferred_agent: int | None = None
    requirements: Requirements | None = None  # None: any agent who takes the channel
    preview: str = ""  # the start of the first message, for the offer card
    conversation_id: int | None = None  # the conversation's public id


@dataclass(frozen=True, slots=True)
class Dequeue:
    """The conversation left the queue: ``abandoned`` (hung up, closed) or ``moved`` (widened to another
    queue, transferred, overflowed, given to an agent directly)."""

    conversation: str
    reason: str = "abandoned"


@dataclass(frozen=True, slots=True)
class SetPriority:
    """An escalation raised the priority of a waiting conversation; its place by waited time is kept."""

    conversation: str
    priority: str


@dataclass(frozen=True, slots=True)
class Staffed:
    """Asks the queue whether a signed-in agent could take a conversation with these requirements
    (workflow targets with ``skip_when_unstaffed``); the reply is a bool."""

    requirements: Requirements


@dataclass(frozen=True, slots=True)
class AgentAvailability:
    """Pushed by an agent actor on every change: what it can take now, per channel."""

    agent_id: int
    state: str  # offline | available | busy | wrap_up | break
    free: dict[str, int]  # per kind of work: voice, chat, email
    skills: dict[str, int]
    idle_since: float
    profile: AgentProfile | None = None
    engaged: frozenset[str] = frozenset()  # conversations held or offered
    occupancy: float = 0.0
    offer_room: int = 1  # more offers the agent may have pending now


@dataclass(frozen=True, slots=True)
class OfferOutcome:
    """What became of an offer: accepted, rejected, timeout (a miss of the agent), refused (the agent
    had no capacity) or withdrawn (the agent went offline, or the conversation refused the accept)."""

    offer_id: str
    conversation: str
    agent_id: int
    outcome: str


@dataclass(frozen=True, slots=True)
class GetQueue:
    pass


@dataclass(frozen=True, slots=True)
class AnnounceAvailability:
    """Asks an agent to push its availability to its queues (a queue sends it when it activates)."""
