"""QueueActor: holds the conversations waiting in one queue and decides who is offered what.

It wraps a :class:`routing.queue_book.QueueBook` (built from the queue's entry in
``config/routing.toml``: strategy, ordering by priority and waited time) and the queue's
:class:`routing.reservations.Reservations`.  Agents push their availability here; after every change the
book pairs waiting conversations with agents who can take them now, holding the offered slot so one
agent's last capacity is never offered twice.  A rejected or timed-out offer goes to the next best agent
(the one who missed it is not asked again while it waits here); an agent without capacity after all
refuses without blame.  The queue also answers whether it is staffed for given requirements (workflow
targets skipped when nobody could take them) and turns conversations away to its overflow queue when
``max_waiting`` are already waiting.
"""

from __future__ import annotations

import heapq
import time
import uuid
from typing import Any

from actors import messages as m
from actors.routing_rules import requirements_from_json
from actors.runtime import ActorRef, Entity
from actors.runtime.entity import TimerFired
from crm_core import agents
from routing.availability import AgentAvailability, AgentStatus
from routing.reservations import Reservations
from routing.skills import AgentProfile

#: The agent times an offer out itself; the queue gives it up this much later (the agent never answered).
OFFER_GRACE_S = 5.0
PUBLISH_EVERY_S = 0.25


class QueueActor(Entity):
    kind = "queue"
    idle_timeout_s = 24 * 3600.0

    async def on_activate(self) -> None:
        self.name = self.ref.id
        config = self.ctx.services.router.current.queues.get(self.name)
        if config is None:
            raise LookupError(f"no queue {self.name!r} in the routing configuration")
        self.config = config
        self.book = config.new_book()
        self.reservations = Reservations(self.name, config.offer_timeout + OFFER_GRACE_S)
        self.entries: dict[str, m.Enqueue] = {}
        self.offer_ids: dict[str, str] = {}  # offer id (as agents see it) -> reservation id
        self.offer_agents: dict[str, str] = {}  # offer id -> the agent it went to
        self.stats = {"offered": 0, "answered": 0, "abandoned": 0, "refused": 0, "timeouts": 0, "rejected": 0,
                      "moved": 0, "overflowed": 0}
        self._publish_due = False
        async with self.ctx.db.connect() as conn:
            rows = await agents.waiting_in_queue(conn, self.name)
            members = await agents.queue_members(conn, self.name)
        for thread, channel, state, number, priority, attributes, conversation_id in rows:
            route = (state or {}).get("routing") or {}
            self._wait(m.Enqueue(
                conversation=thread, channel=channel, ticket_number=number,
                priority=route.get("priority") or priority,
                enqueued_at=float((state or {}).get("enqueued_at", time.time())),
                requirements=requirements_from_json(route.get("requirements"), channel),
                preview=(attributes or {}).get("preview") or "", conversation_id=conversation_id))
        for agent_id in members:
            self.ctx.system.tell(ActorRef("agent", str(agent_id)), m.AnnounceAvailability())

    def describe(self) -> dict[str, Any]:
        return {"waiting": len(self.book), "agents": len(self.book.agents()), "offers": len(self.offer_ids)}

    async def receive(self, message: Any) -> Any:
        match message:
            case m.Staffed(requirements=requirements):
                return self.book.staffed(requirements)
            case m.GetQueue():
                return self.view()
            case m.Enqueue():
                self._enqueue(message)
            case m.Dequeue(conversation=thread, reason=reason):
                self._dequeue(thread, reason)
            case m.AgentAvailability():
                self._availability(message)
            case m.OfferOutcome():
                self._outcome(message)
            case m.SetPriority(conversation=thread, priority=priority):
                self.book.set_priority(thread, priority)
            case TimerFired(name="offers"):
                self._expire()
            case TimerFired(name="publish"):
                self._publish_due = False
                self._publish()
                return None
            case _:
                raise TypeError(f"queue cannot handle {type(message).__name__}")
        self._dispatch()
        if not self._publish_due:
            self._publish_due = True
            self.ctx.start_timer("publish", PUBLISH_EVERY_S)
        return None

    # --- conversations -----------------------------------------------------------------------------

    def _enqueue(self, entry: m.Enqueue) -> None:
        thread = entry.conversation
        if self.book.offered_to(thread) is not None:
            return  # out on offer: the outcome decides; a decline puts it back as it was
        overflow = self.config.overflow
        if thread not in self.book and overflow is not None and overflow.full(len(self.book)):
            self.stats["overflowed"] += 1
            self.ctx.system.tell(ActorRef("conversation", thread), m.Overflow(self.name, overflow.to))
            return
        self._wait(entry)

    def _wait(self, entry: m.Enqueue) -> None:
        requirements = entry.requirements or requirements_from_json(None, entry.channel)
        preferred = str(entry.preferred_agent) if entry.preferred_agent is not None else None
        self.book.add(entry.conversation, requirements, enqueued_at=entry.enqueued_at, priority=entry.priority,
                      attributes=entry.attributes, preferred_agent=preferred)
        self.entries[entry.conversation] = entry

    def _dequeue(self, thread: str, reason: str) -> None:
        self.entries.pop(thread, None)
        agent = self.book.offered_to(thread)
        if self.book.remove(thread) is None:
            return
        self.stats["abandoned" if reason == "abandoned" else "moved"] += 1
        reservation = self.reservations.open_for(thread)
        if reservation is not None:
            self.reservations.cancel(reservation.reservation_id, time.time())
            self._withdraw(reservation.reservation_id, agent, thread, tell_conversation=False)

    # --- agents ------------------------------------------------------------------------------------

    def _availability(self, push: m.AgentAvailability) -> None:
        agent_id = str(push.agent_id)
        availability = AgentAvailability(agent_id, AgentStatus(push.state), push.free, push.idle_since,
                                         frozenset(push.engaged), push.occupancy, push.offer_room)
        slot = self.book.agent(agent_id)
        profile = push.profile or (slot.profile if slot is not None else AgentProfile.of(agent_id, push.skills))
        if slot is None or slot.profile != profile:
            self.book.put_agent(profile, availability)
        else:
            self.book.update_agent(availability)

    # --- offers ------------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        now = time.time()
        offers = self.book.assign(now)
        if not offers:
            return
        timeout = self.config.offer_timeout
        auto_accept = self.config.offer_mode == "auto_accept"
        for conversation, agent_id, ringing in offers:
            thread = conversation.conversation_id
            entry = self.entries[thread]
            reservation = self.reservations.offer(thread, agent_id, conversation.requirements.channel, now)
            self.stats["offered"] += 1
            for agent in (agent_id, *ringing):
                offer_id = uuid.uuid4().hex
                self.offer_ids[offer_id] = reservation.reservation_id
                self.offer_agents[offer_id] = agent
                if not ringing:  # rung at once, it stays queued: whoever accepts first takes it
                    self.ctx.system.tell(ActorRef("conversation", thread), m.OfferMade(int(agent), offer_id, self.name))
                self.ctx.system.tell(ActorRef("agent", agent), m.Offer(
                    offer_id=offer_id, conversation=thread, queue=self.name, channel=entry.channel,
                    ticket_number=entry.ticket_number, summary=entry.attributes, expires_in_s=timeout,
                    preview=entry.preview, auto_accept=auto_accept, ringing=bool(ringing),
                    conversation_id=entry.conversation_id))
        self._arm_expiry()

    def _outcome(self, outcome: m.OfferOutcome) -> None:
        reservation_id = self.offer_ids.pop(outcome.offer_id, None)
        self.offer_agents.pop(outcome.offer_id, None)
        thread = outcome.conversation
        current = self.reservations.open_for(thread)
        is_current = current is not None and current.reservation_id == reservation_id
        now = time.time()
        if outcome.outcome == "accepted":
            # The conversation assigned itself to this agent: it leaves the queue even if the queue had
            # given this offer up and offered the conversation to someone else meanwhile.
            self.stats["answered"] += 1
            self.entries.pop(thread, None)
            if is_current:
                self.reservations.accept(current.reservation_id, now)
                self.book.accepted(thread, str(outcome.agent_id))
                self._withdraw(current.reservation_id, None, thread, tell_conversation=False)  # others rung
            elif thread in self.book:
                other = self.book.offered_to(thread)
                self.book.remove(thread)
                if current is not None:
                    self.reservations.cancel(current.reservation_id, now)
                    self._withdraw(current.reservation_id, other, thread, tell_conversation=False)
            self.reservations.forget_closed()
            return
        if not is_current:
            return
        missed = outcome.outcome in ("rejected", "timeout")
        if missed:
            self.stats["rejected" if outcome.outcome == "rejected" else "timeouts"] += 1
        else:
            self.stats["refused"] += outcome.outcome == "refused"
        if self.book.declined(thread, exclude=missed, agent_id=str(outcome.agent_id)) is None \
                and self.book.offered_to(thread) is not None:
            return  # others are still rung for it
        if missed:
            self.reservations.reject(current.reservation_id, now)
        else:
            self.reservations.cancel(current.reservation_id, now)
        self.reservations.forget_closed()
        self.ctx.system.tell(ActorRef("conversation", thread), m.OfferWithdrawn(outcome.offer_id))

    def _expire(self) -> None:
        """Offers whose agent never answered (its host may be gone): the conversation waits again."""
        for reservation in self.reservations.expire(time.time()):
            self.stats["timeouts"] += 1
            self.book.declined(reservation.conversation_id, exclude=True)
            self._withdraw(reservation.reservation_id, reservation.agent_id, reservation.conversation_id,
                           tell_conversation=True)
        self.reservations.forget_closed()
        self._arm_expiry()

    def _withdraw(self, reservation_id: str, agent_id: str | None, thread: str, tell_conversation: bool) -> None:
        """Withdraw every open offer of the reservation (one, or each agent rung for it)."""
        for offer_id in [o for o, r in self.offer_ids.items() if r == reservation_id]:
            del self.offer_ids[offer_id]
            agent = self.offer_agents.pop(offer_id, None) or agent_id
            if agent is not None:
                self.ctx.system.tell(ActorRef("agent", agent), m.WithdrawOffer(offer_id))
            if tell_conversation:
                self.ctx.system.tell(ActorRef("conversation", thread), m.OfferWithdrawn(offer_id))

    def _arm_expiry(self) -> None:
        next_expiry = self.reservations.next_expiry()
        if next_expiry is None:
            self.ctx.cancel_timer("offers")
        else:
            self.ctx.start_timer("offers", max(0.0, next_expiry - time.time()))

    # --- views -------------------------------------------------------------------------------------

    def view(self) -> dict[str, Any]:
        """The queue with its 200 longest-waiting conversations (the supervisor's queue page)."""
        now = time.time()
        book = self.book
        waiting = heapq.nsmallest(200, self.entries.values(), key=lambda e: e.enqueued_at)
        return {**self.summary(now),
                "waiting": [{"conversation": e.conversation, "ticket": e.ticket_number,
                             "priority": (book.get(e.conversation) or e).priority, "channel": e.channel,
                             "waited_s": round(now - e.enqueued_at, 1),
                             "offered_to": _int_or_none(book.offered_to(e.conversation))}
                            for e in waiting]}

    def summary(self, now: float) -> dict[str, Any]:
        """The queue's live figures and agents, without the conversations (the wall's tile)."""
        book = self.book
        return {"name": self.name, "waiting_count": len(book), "longest_wait_s": round(book.longest_wait(now), 1),
                "offers": len(self.offer_ids),
                "agents": {agent_id: {"state": slot.status.value, "free": dict(slot.free)}
                           for agent_id, slot in book.agents().items()},
                "strategy": book.strategy.name, "stats": dict(self.stats)}

    def _publish(self) -> None:
        self.ctx.publish({"type": "queue", "id": self.name, "state": self.summary(time.time())})


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value is not None else None
