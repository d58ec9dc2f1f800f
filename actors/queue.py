"""QueueActor: holds the conversations waiting in one queue and offers each to the best free agent.

It learns its agents' availability from what the agent actors push, reserves the capacity it offers
(so one agent's last capacity is never offered twice), and puts a conversation back in line when an
offer is rejected, refused or times out.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from actors import messages as m
from actors.runtime import ActorRef, Entity
from actors.runtime.entity import TimerFired
from crm_core.models import Conversation, Ticket, User

PRIORITY_RANK = {"urgent": 3, "high": 2, "normal": 1, "low": 0}
OFFER_GRACE_S = 5.0


@dataclass
class Waiting:
    entry: m.Enqueue
    offered_to: int | None = None
    offer_id: str | None = None
    tried: frozenset[int] = frozenset()


class QueueActor(Entity):
    kind = "queue"
    idle_timeout_s = 24 * 3600.0

    async def on_activate(self) -> None:
        self.name = self.ref.id
        self.waiting: dict[str, Waiting] = {}
        self.agents: dict[int, m.AgentAvailability] = {}
        self.offers: dict[str, str] = {}
        self.stats = {"offered": 0, "answered": 0, "abandoned": 0, "refused": 0, "timeouts": 0}
        async with self.ctx.db.connect() as conn:
            rows = (await conn.execute(
                select(Conversation.thread_key, Conversation.channel, Conversation.state, Ticket.number,
                       Ticket.priority, Ticket.category, Ticket.type)
                .join(Ticket, Ticket.id == Conversation.ticket_id)
                .where(Conversation.queue == self.name, Conversation.status == "open",
                       Conversation.routing_state.in_(("queued", "offered"))))).all()
            members = (await conn.execute(select(User.id).where(
                User.active.is_(True), User.queues["names"].contains([self.name])))).scalars().all()
        for thread, channel, state, number, priority, category, type_ in rows:
            self.waiting[thread] = Waiting(m.Enqueue(
                conversation=thread, channel=channel, ticket_number=number, priority=priority,
                enqueued_at=float((state or {}).get("enqueued_at", time.time())),
                attributes={"channel": channel, "category": category, "type": type_, "priority": priority}))
        for agent_id in members:
            self.ctx.system.tell(ActorRef("agent", str(agent_id)), m.AnnounceAvailability())

    def describe(self) -> dict[str, Any]:
        return {"waiting": len(self.waiting), "agents": len(self.agents), "offers": len(self.offers)}

    async def receive(self, message: Any) -> Any:
        match message:
            case m.Enqueue():
                existing = self.waiting.get(message.conversation)
                if existing is None or existing.offered_to is None:
                    self.waiting[message.conversation] = Waiting(message)
            case m.Dequeue(conversation=thread):
                waiting = self.waiting.pop(thread, None)
                if waiting is not None:
                    self.stats["abandoned"] += 1
                    self._forget_offer(waiting)
            case m.AgentAvailability():
                self.agents[message.agent_id] = message
            case m.OfferOutcome():
                self._outcome(message)
            case TimerFired(name=name, payload=payload) if name.startswith("offer:"):
                self._outcome(m.OfferOutcome(name[6:], payload[0], payload[1], "lost"))
            case m.GetQueue():
                return self.view()
            case _:
                raise TypeError(f"queue cannot handle {type(message).__name__}")
        self._dispatch()
        self._publish()
        return None

    def _outcome(self, outcome: m.OfferOutcome) -> None:
        thread = self.offers.pop(outcome.offer_id, None)
        self.ctx.cancel_timer(f"offer:{outcome.offer_id}")
        waiting = self.waiting.get(outcome.conversation)
        if thread is None or waiting is None or waiting.offer_id != outcome.offer_id:
            return
        if outcome.outcome == "accepted":
            del self.waiting[outcome.conversation]
            self.stats["answered"] += 1
            return
        if outcome.outcome == "refused":
            self.stats["refused"] += 1
        elif outcome.outcome in ("timeout", "lost"):
            self.stats["timeouts"] += 1
        waiting.tried = waiting.tried | {outcome.agent_id}
        waiting.offered_to = waiting.offer_id = None

    def _forget_offer(self, waiting: Waiting) -> None:
        if waiting.offer_id is not None:
            self.offers.pop(waiting.offer_id, None)
            self.ctx.cancel_timer(f"offer:{waiting.offer_id}")

    def _dispatch(self) -> None:
        """Offer each waiting conversation, most urgent and longest waiting first, to the free agent
        idle the longest; capacity offered is reserved here until the agent pushes its new state."""
        line = sorted((w for w in self.waiting.values() if w.offered_to is None),
                      key=lambda w: (-PRIORITY_RANK.get(w.entry.priority, 1), w.entry.enqueued_at))
        timeout = self.ctx.services.settings.engine.offer_timeout_s
        for waiting in line:
            channel = waiting.entry.channel
            candidates = [a for a in self.agents.values() if a.free.get(channel, 0) > 0]
            if not candidates:
                continue
            fresh = [a for a in candidates if a.agent_id not in waiting.tried] or candidates
            agent = min(fresh, key=lambda a: a.idle_since)
            self.agents[agent.agent_id] = m.AgentAvailability(
                agent.agent_id, agent.state, {**agent.free, channel: agent.free[channel] - 1}, agent.skills,
                agent.idle_since)
            offer_id = uuid.uuid4().hex
            waiting.offered_to, waiting.offer_id = agent.agent_id, offer_id
            self.offers[offer_id] = waiting.entry.conversation
            self.stats["offered"] += 1
            self.ctx.start_timer(f"offer:{offer_id}", timeout + OFFER_GRACE_S,
                                 (waiting.entry.conversation, agent.agent_id))
            self.ctx.system.tell(ActorRef("conversation", waiting.entry.conversation),
                                 m.OfferMade(agent.agent_id, offer_id, self.name))
            self.ctx.system.tell(ActorRef("agent", str(agent.agent_id)), m.Offer(
                offer_id=offer_id, conversation=waiting.entry.conversation, queue=self.name, channel=channel,
                ticket_number=waiting.entry.ticket_number, summary=waiting.entry.attributes,
                expires_in_s=timeout))

    def view(self) -> dict[str, Any]:
        now = time.time()
        waits = [now - w.entry.enqueued_at for w in self.waiting.values()]
        return {"name": self.name, "waiting_count": len(self.waiting),
                "longest_wait_s": round(max(waits), 1) if waits else 0.0,
                "waiting": [{"conversation": w.entry.conversation, "ticket": w.entry.ticket_number,
                             "priority": w.entry.priority, "channel": w.entry.channel,
                             "waited_s": round(now - w.entry.enqueued_at, 1), "offered_to": w.offered_to}
                            for w in sorted(self.waiting.values(), key=lambda w: w.entry.enqueued_at)[:200]],
                "agents": {str(a.agent_id): {"state": a.state, "free": a.free} for a in self.agents.values()},
                "stats": dict(self.stats)}

    def _publish(self) -> None:
        view = self.view()
        view.pop("waiting")
        self.ctx.publish({"type": "queue", "id": self.name, "state": view})
