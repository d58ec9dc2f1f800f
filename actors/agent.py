"""AgentActor: one per agent, the single authority over the agent's state and capacity.

It wraps :class:`routing.agent_state.AgentState`: offline, available, busy, wrap-up (a timer, then
available) and break (with a reason code); capacity per kind of work (calls, chats, e-mails, from
``config/routing.toml`` with the agent's own overrides).  A queue's offer is only a request: the agent
reserves a slot or refuses it.  Accepting asks the conversation to assign itself; a rejected or
timed-out offer is a miss when the desktop displayed it (``OfferShown``), and ``max_missed_offers``
misses in a row put the agent on break; ``pending_offers`` caps the offers waiting at once.  A queue in
``auto_accept`` mode hands the conversation over as soon as the agent reserves it.  Going
offline sends every conversation in hand back to its queue.  After every change the agent's
availability is pushed to each of its queues and to the live event stream.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from actors import messages as m
from actors.routing_rules import routing_channel
from actors.runtime import ActorRef, Entity
from actors.runtime.entity import TimerFired
from crm_core import agents
from routing.agent_state import AgentState, AgentStateError, MissOutcome
from routing.availability import AgentStatus
from routing.config import RoutingConfig
from routing.skills import MAX_LEVEL, MIN_LEVEL, AgentProfile

log = logging.getLogger(__name__)

LANGUAGE_SKILL = "lang_"
DEFAULT_LANGUAGES = ("uk",)


def agent_profile(user: Any, config: RoutingConfig) -> AgentProfile:
    """Routing's view of a user: skills with valid levels; languages from ``lang_<code>`` skills or
    the user's ``queues.languages`` (Ukrainian when none is given); segments from ``queues.segments``;
    departments of the queues served plus ``queues.departments``; capacity from the config's defaults
    overridden by the user's own, per kind of work."""
    skills = {}
    for name, level in (user.skills or {}).items():
        if isinstance(level, int) and not isinstance(level, bool) and MIN_LEVEL <= level <= MAX_LEVEL:
            skills[name] = level
        else:
            log.warning("agent %s: skill %r has level %r (not %s-%s); ignored", user.id, name, level,
                        MIN_LEVEL, MAX_LEVEL)
    membership = user.queues or {}
    languages = {name.removeprefix(LANGUAGE_SKILL) for name in skills if name.startswith(LANGUAGE_SKILL)}
    languages |= set(membership.get("languages", ()))
    departments = {config.queues[q].department for q in membership.get("names", ()) if q in config.queues}
    departments |= set(membership.get("departments", ()))
    capacity = dict(config.capacity)
    for channel, slots in (user.capacity or {}).items():
        capacity[routing_channel(channel) if channel not in capacity else channel] = slots
    return AgentProfile.of(str(user.id), skills, languages=languages or DEFAULT_LANGUAGES,
                           segments=membership.get("segments", ()), departments={d for d in departments if d},
                           capacity=capacity)


class AgentActor(Entity):
    kind = "agent"
    idle_timeout_s = 3600.0

    async def on_activate(self) -> None:
        agent_id = int(self.ref.id)
        async with self.ctx.db.connect() as conn:
            user = await agents.agent_row(conn, agent_id)
            saved = await agents.agent_state_row(conn, agent_id)
            held = await agents.held_conversations(conn, agent_id)
        config = self.ctx.services.router.current
        self.agent_id = agent_id
        self.name = user.full_name
        self.queues: list[str] = list((user.queues or {}).get("names", []))
        self.work = AgentState(agent_profile(user, config), wrap_up=config.wrap_up,
                               max_misses=config.max_missed_offers, pending_offers=config.pending_offers)
        self.channels: dict[str, str] = {}  # conversation -> its channel as the desktop shows it
        self.public_ids: dict[str, int] = {}  # conversation (its thread key) -> its public id
        self.offers: dict[str, m.Offer] = {}
        now = time.time()
        self.since = saved.since.timestamp() if saved else now
        status = saved.state if saved else AgentStatus.OFFLINE.value
        if status != AgentStatus.OFFLINE:
            self.work.sign_in(now)
            if status == AgentStatus.BREAK:
                self.work.start_break(saved.reason or "break", now)
        for thread, channel, conversation_id in held:
            self._hold(thread, channel, conversation_id)
        self._status = self.work.status.value
        self._saved = (status, saved.reason if saved else None)
        self._push()

    def describe(self) -> dict[str, Any]:
        return {"state": self.work.status.value, "load": self._load(), "offers": len(self.offers)}

    async def receive(self, message: Any) -> Any:
        match message:
            case m.SetAgentState(state=state, reason=reason):
                return await self._change_state(state, reason)
            case m.Offer(auto_accept=True):
                if self._offer(message) and message.offer_id in self.offers:
                    try:
                        await self._accept(message.offer_id)
                    except LookupError as exc:
                        log.info("agent %s: auto-accepted offer %s failed: %s", self.agent_id, message.offer_id, exc)
                return None
            case m.Offer():
                return self._offer(message)
            case m.OfferShown(offer_id=offer_id):
                return self._shown(offer_id)
            case m.AcceptOffer(offer_id=offer_id):
                return await self._accept(offer_id)
            case m.RejectOffer(offer_id=offer_id, reason=reason):
                return await self._missed(offer_id, "rejected", reason)
            case m.WithdrawOffer(offer_id=offer_id, reason=reason):
                self._drop_offer(offer_id, reason)
                return await self._changed()
            case TimerFired(name=name, payload=payload):
                return await self._timer(name, payload)
            case m.ConversationReleased():
                return await self._released(message)
            case m.ConversationPinned(conversation=thread, channel=channel, conversation_id=conversation_id):
                self._hold(thread, channel, conversation_id)
                return await self._changed()
            case m.AnnounceAvailability():
                self._push()
                return None
            case m.GetAgent():
                return self.view()
            case m.ProfileChanged():
                return await self._profile_changed()
        raise TypeError(f"agent cannot handle {type(message).__name__}")

    async def _profile_changed(self) -> dict[str, Any]:
        """New skills, queues and capacity from the user's row; queues left are told the agent is gone."""
        async with self.ctx.db.connect() as conn:
            user = await agents.agent_row(conn, self.agent_id)
        profile = agent_profile(user, self.ctx.services.router.current)
        queues = list((user.queues or {}).get("names", []))
        gone = m.AgentAvailability(agent_id=self.agent_id, state=AgentStatus.OFFLINE.value, free={}, skills={},
                                   idle_since=time.time())
        for queue in set(self.queues) - set(queues):
            self.ctx.system.tell(ActorRef("queue", queue), gone)
        self.queues = queues
        self.work.profile = profile
        self.work.capacity = dict(profile.capacity)
        self._push()
        return self.view()

    # --- presence ----------------------------------------------------------------------------------

    async def _change_state(self, state: str, reason: str | None) -> dict[str, Any]:
        now = time.time()
        if state == "available":
            self.work.sign_in(now)
            self.work.end_break(now)
        elif state == "break":
            if not reason:
                raise ValueError("a break needs a reason")
            self.work.start_break(reason, now)
        elif state == "offline":
            for offer_id in list(self.offers):
                self._drop_offer(offer_id, "agent went offline", tell_queue=True)
            for thread in self.work.sign_out(now):
                self._forget(thread)
                self.ctx.system.tell(ActorRef("conversation", thread), m.BackToQueue("agent went offline"))
            self.ctx.cancel_timer("wrap_up")
        else:
            raise AgentStateError(f"an agent cannot switch to {state!r}")
        return await self._changed()

    async def _changed(self) -> dict[str, Any]:
        """Persist the state if it changed, push availability to the queues, publish; the view."""
        status = self.work.status
        if status.value != self._status:
            self._status, self.since = status.value, time.time()
        # Busy is available with work in hand: the row keeps what the agent chose (and wrap-up, break).
        current = (AgentStatus.AVAILABLE.value if status is AgentStatus.BUSY else status.value, self.work.break_reason)
        if current != self._saved:
            self._saved = current
            await agents.save_agent_state(self.ctx.services.autocommit, self.agent_id, current[0], current[1],
                                         datetime.fromtimestamp(self.since, UTC))
        self._push()
        return self.view()

    # --- offers ------------------------------------------------------------------------------------

    def _offer(self, offer: m.Offer) -> bool:
        if offer.offer_id in self.offers:
            return True
        if not self.work.reserve(offer.conversation, routing_channel(offer.channel), time.time()):
            self._tell_queue(offer, "refused")
            self._push()
            return False
        self.offers[offer.offer_id] = offer
        self.channels[offer.conversation] = offer.channel
        self._known(offer.conversation, offer.conversation_id)
        self.ctx.start_timer(f"offer:{offer.offer_id}", offer.expires_in_s, offer.offer_id)
        self.ctx.publish({"type": "offer", "id": offer.offer_id, "agent_id": self.agent_id,
                          "state": {"conversation": offer.conversation, "conversation_id": offer.conversation_id,
                                    "queue": offer.queue,
                                    "channel": offer.channel, "ticket": offer.ticket_number,
                                    "summary": offer.summary, "preview": offer.preview,
                                    "expires_at": time.time() + offer.expires_in_s}})
        self._push()
        return True

    def _shown(self, offer_id: str) -> bool:
        offer = self.offers.get(offer_id)
        if offer is None:
            raise LookupError(f"offer {offer_id} is no longer open")
        return self.work.shown(offer.conversation)

    async def _accept(self, offer_id: str) -> dict[str, Any]:
        offer = self.offers.get(offer_id)
        if offer is None:
            raise LookupError(f"offer {offer_id} is no longer open")
        try:
            view = await self.ctx.system.ask(ActorRef("conversation", offer.conversation),
                                             m.AssignTo(self.agent_id, offer_id))
        except Exception:
            self._drop_offer(offer_id, "the conversation is no longer waiting", tell_queue=True)
            await self._changed()
            raise
        del self.offers[offer_id]
        self.ctx.cancel_timer(f"offer:{offer_id}")
        self.work.accept(offer.conversation, time.time())
        self._tell_queue(offer, "accepted")
        self._publish_offer_closed(offer_id, "accepted", "")
        await self._changed()
        return view

    async def _missed(self, offer_id: str, outcome: str, reason: str) -> dict[str, Any]:
        offer = self.offers.pop(offer_id, None)
        if offer is None:
            raise LookupError(f"offer {offer_id} is no longer open")
        self.ctx.cancel_timer(f"offer:{offer_id}")
        self._forget(offer.conversation)
        now = time.time()
        if outcome == "rejected":
            miss: MissOutcome = self.work.reject(offer.conversation, now)
        elif offer.ringing:  # rung at several agents at once: nobody is to blame for letting it ring
            self.work.release(offer.conversation, now)
            miss = MissOutcome(self.work.misses, False, counted=False)
        else:
            miss = self.work.offer_timed_out(offer.conversation, now)
        self._tell_queue(offer, outcome)
        self._publish_offer_closed(offer_id, outcome, reason)
        if not miss.counted:
            log.info("agent %s: offer %s timed out before the desktop displayed it; not a miss", self.agent_id,
                     offer_id)
        if miss.put_on_break:
            log.info("agent %s put on break after %s missed offers", self.agent_id, miss.misses)
        return await self._changed()

    def _drop_offer(self, offer_id: str, reason: str, tell_queue: bool = False) -> None:
        """Forget an offer without blaming the agent (withdrawn by the queue, or the agent left)."""
        offer = self.offers.pop(offer_id, None)
        if offer is None:
            return
        self.ctx.cancel_timer(f"offer:{offer_id}")
        self._forget(offer.conversation)
        self.work.release(offer.conversation, time.time())
        if tell_queue:
            self._tell_queue(offer, "withdrawn")
        self._publish_offer_closed(offer_id, "withdrawn", reason)

    def _tell_queue(self, offer: m.Offer, outcome: str) -> None:
        self.ctx.system.tell(ActorRef("queue", offer.queue),
                             m.OfferOutcome(offer.offer_id, offer.conversation, self.agent_id, outcome))

    def _publish_offer_closed(self, offer_id: str, outcome: str, reason: str) -> None:
        self.ctx.publish({"type": "offer", "id": offer_id, "agent_id": self.agent_id, "removed": True,
                          "state": {"outcome": outcome, "reason": reason}})

    # --- conversations in hand ---------------------------------------------------------------------

    def _hold(self, thread: str, channel: str, conversation_id: int | None) -> None:
        self.work.take(thread, routing_channel(channel), time.time())
        self.channels[thread] = channel
        self._known(thread, conversation_id)

    def _forget(self, thread: str) -> None:
        self.channels.pop(thread, None)
        self.public_ids.pop(thread, None)

    def _known(self, thread: str, conversation_id: int | None) -> None:
        if conversation_id is not None:
            self.public_ids[thread] = conversation_id

    async def _released(self, released: m.ConversationReleased) -> dict[str, Any]:
        if released.conversation in self.work.in_hand:
            now = time.time()
            self._forget(released.conversation)
            if released.wrap_up:
                wrap_up_until = self.work.finish(released.conversation, now)
                if wrap_up_until is not None:
                    self.ctx.start_timer("wrap_up", max(0.0, wrap_up_until - now))
            else:
                self.work.release(released.conversation, now)
        return await self._changed()

    async def _timer(self, name: str, payload: Any) -> Any:
        if name.startswith("offer:") and payload in self.offers:
            return await self._missed(payload, "timeout", "no answer")
        if name == "wrap_up" and not self.work.wrap_up_done(time.time()):
            if self.work.wrap_up_until is not None:  # wrap-up was extended by a later conversation
                self.ctx.start_timer("wrap_up", max(0.0, self.work.wrap_up_until - time.time()))
            return None
        return await self._changed()

    # --- views -------------------------------------------------------------------------------------

    def _load(self) -> dict[str, int]:
        load: dict[str, int] = {}
        for thread in self.work.in_hand:
            channel = self.channels.get(thread, "")
            load[channel] = load.get(channel, 0) + 1
        return load

    def view(self) -> dict[str, Any]:
        work = self.work
        availability = work.availability()
        return {"id": self.agent_id, "name": self.name, "state": work.status.value, "reason": work.break_reason,
                "since": self.since, "capacity": dict(work.capacity), "load": self._load(),
                "free": dict(availability.free), "queues": self.queues, "skills": dict(work.profile.skills),
                "languages": sorted(work.profile.languages), "misses": work.misses,
                "idle_since": work.idle_since, "wrap_up_until": work.wrap_up_until,
                "occupancy": round(availability.occupancy, 3), "conversations": sorted(work.in_hand),
                "conversation_ids": sorted(self.public_ids[t] for t in work.in_hand if t in self.public_ids),
                "offers": [{"offer_id": o.offer_id, "conversation": o.conversation,
                            "conversation_id": o.conversation_id, "queue": o.queue,
                            "channel": o.channel, "ticket": o.ticket_number, "preview": o.preview}
                           for o in self.offers.values()]}

    def _push(self) -> None:
        availability = self.work.availability()
        push = m.AgentAvailability(agent_id=self.agent_id, state=availability.status.value,
                                   free=dict(availability.free), skills=dict(self.work.profile.skills),
                                   idle_since=availability.idle_since, profile=self.work.profile,
                                   engaged=availability.engaged, occupancy=availability.occupancy,
                                   offer_room=availability.offer_room)
        for queue in self.queues:
            self.ctx.system.tell(ActorRef("queue", queue), push)
        self.ctx.publish({"type": "agent", "id": str(self.agent_id), "agent_id": self.agent_id,
                          "state": self.view()})
