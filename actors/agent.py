"""AgentActor: one per agent, the single authority over the agent's state and capacity.

States: offline, available, break (with a reason), wrap_up (a timer, then available).  The agent takes
offers from its queues while it has free capacity for the offer's channel; accepting an offer assigns
the conversation; a rejected or timed-out offer counts as a miss, and too many misses in a row put the
agent on break.  Every change is pushed to the agent's queues and to the live event stream.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from actors import messages as m
from actors.runtime import ActorRef, Entity
from actors.runtime.entity import TimerFired
from crm_core.models import AgentState, Conversation, User

DEFAULT_CAPACITY = {"voice": 1, "telegram": 3, "viber": 3, "webchat": 3, "app": 3, "web_form": 5, "email": 5}
STATES = ("offline", "available", "break", "wrap_up")
MISSES_BEFORE_BREAK = 3


class AgentActor(Entity):
    kind = "agent"
    idle_timeout_s = 3600.0

    async def on_activate(self) -> None:
        agent_id = int(self.ref.id)
        async with self.ctx.db.connect() as conn:
            user = (await conn.execute(select(*User.__table__.c).where(User.id == agent_id))).first()
            if user is None:
                raise LookupError(f"no user {agent_id}")
            saved = (await conn.execute(select(*AgentState.__table__.c)
                                        .where(AgentState.user_id == agent_id))).first()
            held = (await conn.execute(select(Conversation.thread_key, Conversation.channel).where(
                Conversation.agent_id == agent_id, Conversation.status == "open",
                Conversation.routing_state == "assigned"))).all()
        self.agent_id = agent_id
        self.name = user.full_name
        self.skills: dict[str, int] = dict(user.skills or {})
        self.queues: list[str] = list((user.queues or {}).get("names", []))
        self.capacity = {**DEFAULT_CAPACITY, **(user.capacity or {})}
        self.state = saved.state if saved else "offline"
        self.reason = saved.reason if saved else None
        self.since = saved.since.timestamp() if saved else time.time()
        self.conversations: dict[str, str] = {thread: channel for thread, channel in held}
        self.offers: dict[str, m.Offer] = {}
        self.misses = 0
        self.idle_since = time.time()
        if self.state == "wrap_up":
            await self._set_state("available", None)
        self._push()

    def describe(self) -> dict[str, Any]:
        return {"state": self.state, "load": self._load(), "offers": len(self.offers)}

    async def receive(self, message: Any) -> Any:
        match message:
            case m.SetAgentState(state=state, reason=reason):
                return await self._change_state(state, reason)
            case m.Offer():
                return self._offer(message)
            case m.AcceptOffer(offer_id=offer_id):
                return await self._accept(offer_id)
            case m.RejectOffer(offer_id=offer_id, reason=reason):
                return self._miss(offer_id, "rejected", reason)
            case TimerFired(name=name, payload=payload):
                return await self._timer(name, payload)
            case m.ConversationReleased():
                return await self._released(message)
            case m.ConversationPinned(conversation=thread, channel=channel):
                self.conversations[thread] = channel
                self._push()
                return self.view()
            case m.AnnounceAvailability():
                self._push()
                return None
            case m.GetAgent():
                return self.view()
        raise TypeError(f"agent cannot handle {type(message).__name__}")

    # --- state -----------------------------------------------------------------------------------

    async def _change_state(self, state: str, reason: str | None) -> dict[str, Any]:
        if state not in ("offline", "available", "break"):
            raise ValueError(f"an agent cannot switch to {state!r}")
        if state == "break" and not reason:
            raise ValueError("a break needs a reason")
        if state == "offline":
            for offer_id in list(self.offers):
                self._miss(offer_id, "withdrawn", "agent went offline", count=False)
            for thread in list(self.conversations):
                self.ctx.system.tell(ActorRef("conversation", thread), m.BackToQueue("agent went offline"))
            self.conversations.clear()
        if state == "available":
            self.misses = 0
        await self._set_state(state, reason)
        self._push()
        return self.view()

    async def _set_state(self, state: str, reason: str | None) -> None:
        self.state, self.reason, self.since = state, reason, time.time()
        if state == "available":
            self.idle_since = self.since
        since = datetime.fromtimestamp(self.since, UTC)
        statement = insert(AgentState).values(user_id=self.agent_id, state=state, reason=reason, since=since,
                                              data={})
        statement = statement.on_conflict_do_update(index_elements=[AgentState.user_id],
                                                    set_={"state": state, "reason": reason, "since": since})
        async with self.ctx.db.begin() as conn:
            await conn.execute(statement)

    # --- offers ----------------------------------------------------------------------------------

    def _free(self) -> dict[str, int]:
        if self.state != "available":
            return {channel: 0 for channel in self.capacity}
        load = self._load()
        for offer in self.offers.values():
            load[offer.channel] = load.get(offer.channel, 0) + 1
        return {channel: max(0, cap - load.get(channel, 0)) for channel, cap in self.capacity.items()}

    def _load(self) -> dict[str, int]:
        load: dict[str, int] = {}
        for channel in self.conversations.values():
            load[channel] = load.get(channel, 0) + 1
        return load

    def _offer(self, offer: m.Offer) -> bool:
        if offer.offer_id in self.offers:
            return True
        if self._free().get(offer.channel, 0) <= 0:
            self.ctx.system.tell(ActorRef("queue", offer.queue),
                                 m.OfferOutcome(offer.offer_id, offer.conversation, self.agent_id, "refused"))
            self._push()
            return False
        self.offers[offer.offer_id] = offer
        self.ctx.start_timer(f"offer:{offer.offer_id}", offer.expires_in_s, offer.offer_id)
        self.ctx.publish({"type": "offer", "id": offer.offer_id, "agent_id": self.agent_id,
                          "state": {"conversation": offer.conversation, "queue": offer.queue,
                                    "channel": offer.channel, "ticket": offer.ticket_number,
                                    "summary": offer.summary, "expires_at": time.time() + offer.expires_in_s}})
        self._publish()
        return True

    async def _accept(self, offer_id: str) -> dict[str, Any]:
        offer = self.offers.pop(offer_id, None)
        if offer is None:
            raise LookupError(f"offer {offer_id} is no longer open")
        self.ctx.cancel_timer(f"offer:{offer_id}")
        try:
            view = await self.ctx.system.ask(ActorRef("conversation", offer.conversation),
                                             m.AssignTo(self.agent_id, offer_id))
        except Exception:
            self.ctx.system.tell(ActorRef("queue", offer.queue),
                                 m.OfferOutcome(offer_id, offer.conversation, self.agent_id, "withdrawn"))
            self._push()
            raise
        self.conversations[offer.conversation] = offer.channel
        self.misses = 0
        self.ctx.system.tell(ActorRef("queue", offer.queue),
                             m.OfferOutcome(offer_id, offer.conversation, self.agent_id, "accepted"))
        self._push()
        return view

    def _miss(self, offer_id: str, outcome: str, reason: str, count: bool = True) -> dict[str, Any]:
        offer = self.offers.pop(offer_id, None)
        if offer is None:
            raise LookupError(f"offer {offer_id} is no longer open")
        self.ctx.cancel_timer(f"offer:{offer_id}")
        self.ctx.system.tell(ActorRef("queue", offer.queue),
                             m.OfferOutcome(offer_id, offer.conversation, self.agent_id, outcome))
        self.ctx.publish({"type": "offer", "id": offer_id, "agent_id": self.agent_id, "removed": True,
                          "state": {"outcome": outcome, "reason": reason}})
        if count:
            self.misses += 1
        self._push()
        return self.view()

    async def _timer(self, name: str, payload: Any) -> None:
        if name.startswith("offer:") and payload in self.offers:
            self._miss(payload, "timeout", "no answer")
            if self.misses >= MISSES_BEFORE_BREAK and self.state == "available":
                await self._set_state("break", "missed_offers")
                self._push()
        elif name == "wrap_up" and self.state == "wrap_up":
            await self._set_state("available", None)
            self._push()

    async def _released(self, released: m.ConversationReleased) -> dict[str, Any]:
        if self.conversations.pop(released.conversation, None) is not None:
            wrap_up_s = self.ctx.services.settings.engine.wrap_up_s
            if released.wrap_up and wrap_up_s > 0 and self.state == "available" and not self.conversations:
                await self._set_state("wrap_up", None)
                self.ctx.start_timer("wrap_up", wrap_up_s)
            self.idle_since = time.time()
            self._push()
        return self.view()

    # --- views -----------------------------------------------------------------------------------

    def view(self) -> dict[str, Any]:
        return {"id": self.agent_id, "name": self.name, "state": self.state, "reason": self.reason,
                "since": self.since, "capacity": self.capacity, "load": self._load(), "free": self._free(),
                "queues": self.queues, "skills": self.skills, "misses": self.misses,
                "conversations": sorted(self.conversations),
                "offers": [{"offer_id": o.offer_id, "conversation": o.conversation, "queue": o.queue,
                            "channel": o.channel, "ticket": o.ticket_number} for o in self.offers.values()]}

    def _publish(self) -> None:
        self.ctx.publish({"type": "agent", "id": str(self.agent_id), "agent_id": self.agent_id,
                          "state": self.view()})

    def _push(self) -> None:
        availability = m.AgentAvailability(agent_id=self.agent_id, state=self.state, free=self._free(),
                                           skills=self.skills, idle_since=self.idle_since)
        for queue in self.queues:
            self.ctx.system.tell(ActorRef("queue", queue), availability)
        self._publish()
