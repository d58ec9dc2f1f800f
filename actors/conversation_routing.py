"""How a conversation finds its agent: the routing workflow of ``config/routing.toml`` run by the
conversation actor.  Mixed into :class:`actors.conversation.ConversationActor`.

A new conversation is placed by the workflow (first matching filter -> its first target; a target with
``skip_when_unstaffed`` is passed over at once when its queue says nobody signed in could take it) and
waits in the target's queue.  One durable reminder, ``route``, fires at the earlier of the target's
timeout (then it widens to the next target: bullseye) and the queue's overflow time (then it moves to
the overflow queue with the skills dropped).  The placement (filter and target index), the requirements,
the queue priority and the instant the conversation first began to wait are kept in the conversation's
state, so a passivated conversation resumes where it was and a requeued one keeps its place.
Transfers go to a queue, a department's queue or a named agent, with the reason recorded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from actors import messages as m
from actors.call_back import is_call_back
from actors.call_life import CallLife, observe_mode
from actors.routing_rules import requirements_from_json, requirements_to_json, routing_channel
from actors.runtime import ActorRef
from crm_core import tickets as db
from routing.config import RoutingConfig
from routing.skills import Requirements
from routing.transfer import Transfer, TransferError, TransferTo, plan_transfer
from routing.workflow import Overflow, Placement

log = logging.getLogger(__name__)

ROUTE_REMINDER = "route"
WAITING = ("queued", "offered")


class OfferNoLongerValid(LookupError):
    """The offer was withdrawn or given to someone else before it was accepted."""


@dataclass(frozen=True, slots=True)
class Waiting:
    """A decision to wait in a queue: the conversation's new columns, the ticket event, the message for
    the queue and the queue it leaves (if it waited elsewhere)."""

    conversation: dict[str, Any]
    event: tuple[str, str, dict[str, Any]]
    enqueue: m.Enqueue
    leaves: str | None


def routing_attributes(channel: str, ticket: dict[str, Any]) -> dict[str, Any]:
    """What routing expressions see of a conversation (the names of :data:`routing.config.ATTRIBUTES`)."""
    attrs = ticket.get("attributes") or {}
    return {"channel": routing_channel(channel), "category": ticket.get("category"),
            "type": ticket.get("type"), "priority": ticket.get("priority"),
            "segment": attrs.get("segment") or "regular", "language": attrs.get("language") or "uk",
            "department": attrs.get("department"), "identified": bool(ticket.get("identified"))}


class ConversationRouting:
    """Needs ``ctx``, ``ref``, ``row``, ``ticket``, ``view`` and ``_publish_state`` of the actor."""

    ctx: Any
    ref: Any
    row: Any
    ticket: Any
    view: Any
    _publish_state: Any

    @property
    def _rules(self) -> RoutingConfig:
        return self.ctx.services.router.current

    def _attributes(self) -> dict[str, Any]:
        return routing_attributes(self.row["channel"], self.ticket or {})

    @property
    def _route(self) -> dict[str, Any]:
        return self.row["state"].get("routing") or {}

    # --- placing -----------------------------------------------------------------------------------

    async def _enqueue(self, enqueued_at: float) -> None:
        """Route a conversation that has just been handed to agents (from the chatbot, say)."""
        placement = await self._place(self._attributes())
        await self._wait_in(placement.queue, placement.requirements, placement.priority, enqueued_at,
                            placement=placement, kind="queued", data={"filter": placement.filter_name})

    async def _place(self, attributes: dict[str, Any]) -> Placement:
        """Where the workflow puts a conversation with these attributes."""
        workflow = self._rules.workflow
        return await self._placed(lambda staffed: workflow.place(attributes, staffed=staffed))

    async def _placed(self, decide: Callable[[Callable[[str, Requirements], bool]], Placement | None],
                      ) -> Placement | None:
        """Run a workflow decision, asking the queues it names whether they are staffed.  Each pass
        answers the decision's first unknown question (assumed staffed until asked), so only the
        targets the decision reaches are asked about."""
        known: dict[tuple[str, Requirements], bool] = {}
        unknown: list[tuple[str, Requirements]] = []

        def staffed(queue: str, requirements: Requirements) -> bool:
            key = (queue, requirements)
            if key in known:
                return known[key]
            unknown.append(key)
            return True

        while True:
            unknown.clear()
            placement = decide(staffed)
            if not unknown:
                return placement
            answers = await asyncio.gather(*(self._staffed(q, r) for q, r in unknown))
            known.update(zip(unknown, answers, strict=True))

    async def _staffed(self, queue: str, requirements: Requirements) -> bool:
        return await self.ctx.services.staffing.staffed(queue, requirements)

    async def _wait_in(self, queue: str, requirements: Requirements, priority: str, enqueued_at: float, *,
                       placement: Placement | None, kind: str, data: dict[str, Any],
                       author: str = "system") -> None:
        """Wait in ``queue``: persist the routing state, record ``kind`` as a ticket event, arm the route
        reminder and tell the queue.  ``placement`` None: placed by hand (transfer, overflow,
        escalation), so the workflow does not widen it any more."""
        waiting = self._waiting(queue, requirements, priority, enqueued_at, placement=placement, kind=kind,
                                data=data, author=author)
        async with self.ctx.transaction() as conn:
            await db.update_conversation(conn, self.row["id"], **waiting.conversation)
            await db.update_ticket(conn, self.ticket["id"], queue=queue)
            await db.add_events(conn, self.ticket["id"], [waiting.event])
            await self._start_waiting(conn, waiting)
        self._join_queue(waiting)

    def _waiting(self, queue: str, requirements: Requirements, priority: str, enqueued_at: float, *,
                 placement: Placement | None, kind: str, data: dict[str, Any], author: str = "system") -> Waiting:
        """The writes and the queue's message of waiting in ``queue`` (see :meth:`_wait_in`)."""
        now = time.time()
        previous = self.row["queue"]
        before = self._route
        same_queue = previous == queue and bool(before)
        route = {"filter": placement.filter_name if placement else None, "index": placement.index if placement else 0,
                 "entered_at": now, "queue_since": before.get("queue_since", now) if same_queue else now,
                 "requirements": requirements_to_json(requirements), "priority": priority}
        state = {k: v for k, v in self.row["state"].items() if k not in ("offer_id", "offered_to")}
        state.update(enqueued_at=enqueued_at, routing=route)
        event = (author, kind, {"queue": queue, "from_queue": previous if previous != queue else None,
                                "target": route["index"] if placement else None, "priority": priority, **data})
        leaves = previous if previous and previous != queue and self.row["routing_state"] in WAITING else None
        enqueue = m.Enqueue(conversation=self.ref.id, channel=self.row["channel"], ticket_number=self.ticket["number"],
                            priority=priority, enqueued_at=enqueued_at, attributes=self._attributes(),
                            requirements=requirements,
                            preview=(self.ticket.get("attributes") or {}).get("preview") or "",
                            conversation_id=self.row["id"])
        return Waiting({"queue": queue, "routing_state": "queued", "agent_id": None, "state": state}, event,
                       enqueue, leaves)

    async def _start_waiting(self, conn: Any, waiting: Waiting) -> None:
        """In the transaction that wrote ``waiting``: take it into memory and arm the route reminder."""
        self.row.update(waiting.conversation)
        self.ticket["queue"] = waiting.conversation["queue"]
        await self._arm_route(conn)

    def _join_queue(self, waiting: Waiting) -> None:
        """After the commit: leave the previous queue, join the new one, show it."""
        if waiting.leaves is not None:
            self.ctx.system.tell(ActorRef("queue", waiting.leaves), m.Dequeue(self.ref.id, "moved"))
        self.ctx.system.tell(ActorRef("queue", waiting.conversation["queue"]), waiting.enqueue)
        self._publish_state()

    async def _arm_route(self, conn: Any = None) -> None:
        """The route reminder at the earlier of the target's timeout and the queue's overflow time
        (written in ``conn``'s transaction when given)."""
        route, rules = self._route, self._rules
        instants = []
        if route.get("filter") is not None:
            placement = rules.workflow.resume(route["filter"], route["index"], self._attributes())
            instants.append(placement.deadline(route["entered_at"]))
        queue = rules.queues.get(self.row["queue"])
        if queue is not None and queue.overflow is not None:
            instants.append(queue.overflow.due_at(route.get("queue_since", time.time())))
        due = min((i for i in instants if i is not None), default=None)
        if due is None:
            await self.ctx.cancel_reminder(ROUTE_REMINDER, conn=conn)
        else:
            await self.ctx.set_reminder(ROUTE_REMINDER, datetime.fromtimestamp(due, UTC), conn=conn)

    async def _route_due(self, due_at: float) -> None:
        """The route reminder for ``due_at`` fired: widen to the next target, or overflow, or re-arm (the
        state changed since it was set).  Its own instant counts as come, however the clocks differ."""
        if self.row is None or self.row["routing_state"] not in WAITING or self.ticket is None:
            return
        if ((self.ticket.get("attributes") or {}).get("call") or {}).get("state") == "hangup":
            return  # the caller hung up while waiting: nothing to route any more
        route, rules, now = self._route, self._rules, max(time.time(), due_at)
        queue = rules.queues.get(self.row["queue"])
        if self.row["routing_state"] == "offered":  # an agent is deciding: look again after the offer
            timeout = queue.offer_timeout if queue is not None else rules.offer_timeout
            await self.ctx.set_reminder(ROUTE_REMINDER, datetime.fromtimestamp(now + timeout, UTC))
            return
        enqueued_at = float(self.row["state"].get("enqueued_at", now))
        if route.get("filter") is not None:
            attributes = self._attributes()
            placement = rules.workflow.resume(route["filter"], route["index"], attributes)
            deadline = placement.deadline(route["entered_at"])
            if deadline is not None and deadline <= now:
                wider = await self._placed(
                    lambda staffed: rules.workflow.next_placement(placement, attributes, staffed=staffed))
                if wider is not None:
                    await self._wait_in(wider.queue, wider.requirements, wider.priority, enqueued_at,
                                        placement=wider, kind="widened", data={"filter": wider.filter_name})
                    return
                await self._keep_waiting(filter=None)  # the last target: no more widening
                return
        overflow = queue.overflow if queue is not None else None
        due = overflow.due_at(route.get("queue_since", now)) if overflow is not None else None
        if overflow is not None and due is not None and due <= now:
            await self._overflow_to(overflow.to, "waited")
        else:
            await self._arm_route()

    async def _keep_waiting(self, **route_changes: Any) -> None:
        state = {**self.row["state"], "routing": {**self._route, **route_changes}}
        async with self.ctx.db.begin() as conn:
            await db.update_conversation(conn, self.row["id"], state=state)
        self.row["state"] = state
        await self._arm_route()

    async def _overflow_to(self, queue: str, why: str) -> None:
        route = self._route
        requirements = Overflow.requirements(requirements_from_json(route.get("requirements"), self.row["channel"]))
        await self._wait_in(queue, requirements, route.get("priority") or self.ticket["priority"],
                            float(self.row["state"].get("enqueued_at", time.time())), placement=None,
                            kind="overflowed", data={"reason": why})

    async def _overflowed(self, overflow: m.Overflow) -> None:
        """The queue was full on arrival."""
        if self.row is not None and self.row["routing_state"] in WAITING and self.row["queue"] == overflow.from_queue:
            await self._overflow_to(overflow.to_queue, "full")

    # --- offers ------------------------------------------------------------------------------------

    async def _offered(self, offer: m.OfferMade) -> None:
        if self.row is None or self.row["routing_state"] not in WAITING:
            return
        self.row["routing_state"] = "offered"
        self.row["state"] = {**self.row["state"], "offer_id": offer.offer_id, "offered_to": offer.agent_id}
        self._publish_state()

    async def _offer_withdrawn(self, withdrawn: m.OfferWithdrawn) -> None:
        if self.row is None or self.row["routing_state"] != "offered" or \
                self.row["state"].get("offer_id") != withdrawn.offer_id:
            return
        self.row["routing_state"] = "queued"
        self.row["state"] = {k: v for k, v in self.row["state"].items() if k not in ("offer_id", "offered_to")}
        self._publish_state()

    async def _assign(self, assign: m.AssignTo) -> dict[str, Any]:
        # The agent may accept before the queue's OfferMade arrives here; a queued conversation takes it.
        current = self.row and self.row["routing_state"]
        if current not in WAITING or (current == "offered" and self.row["state"].get("offer_id") != assign.offer_id):
            raise OfferNoLongerValid(f"offer {assign.offer_id} for {self.ref.id} is no longer valid")
        waited = time.time() - float(self.row["state"].get("enqueued_at", time.time()))
        await self._assigned(assign.agent_id, f"agent:{assign.agent_id}",
                             {"queue": self.row["queue"], "waited_s": round(waited, 3)})
        if self.row["channel"] == "voice" and not observe_mode(self.ticket) and not is_call_back(self.ticket):
            await CallLife.redirect_to(self, assign.agent_id)
        return await self.view()

    async def _assigned(self, agent_id: int, author: str, data: dict[str, Any]) -> None:
        changes: dict[str, Any] = {"agent_id": agent_id}
        if self.ticket["status"] == "new":
            changes["status"] = "in_progress"
        state = {k: v for k, v in self.row["state"].items() if k not in ("offer_id", "offered_to")}
        await db.change_conversation_and_ticket(
            self.ctx.services.autocommit, conversation_id=self.row["id"],
            conversation={"agent_id": agent_id, "routing_state": "assigned", "state": state},
            ticket_id=self.ticket["id"], ticket=changes, events=[
                (author, "assigned", {"agent_id": agent_id, **data}),
                *([(author, "status", {"from": "new", "to": "in_progress"})] if "status" in changes else []),
            ])
        waited = self.row["routing_state"] in WAITING
        self.row.update(agent_id=agent_id, routing_state="assigned", state=state)
        self.ticket.update(changes)
        if waited:  # the route reminder is armed only while the conversation waits
            await self.ctx.cancel_reminder(ROUTE_REMINDER)
        self._publish_state()

    async def _back_to_queue(self, reason: str) -> None:
        """The agent went offline holding it: wait again in the same queue, with the same requirements
        and priority and the waited time kept."""
        if self.row is None or self.ticket is None or self.row["routing_state"] not in ("offered", "assigned"):
            return
        route, rules = self._route, self._rules
        queue = self.row["queue"] or rules.workflow.place(self._attributes()).queue
        placement = rules.workflow.resume(route["filter"], route["index"], self._attributes()) \
            if route.get("filter") is not None else None
        await self._wait_in(queue, requirements_from_json(route.get("requirements"), self.row["channel"]),
                            route.get("priority") or self.ticket["priority"],
                            float(self.row["state"].get("enqueued_at", time.time())), placement=placement,
                            kind="requeued", data={"reason": reason, "from_agent": self.row["agent_id"]})

    # --- transfers ---------------------------------------------------------------------------------

    async def _transfer(self, transfer: m.Transfer) -> dict[str, Any]:
        rules, now = self._rules, time.time()
        if transfer.agent_id is not None:
            await self.hand_to_agent(transfer.agent_id, author=transfer.author, reason=transfer.reason,
                                     kind="transferred")
            return await self.view()
        target = transfer.department or transfer.queue
        if not target:
            raise TransferError("a transfer needs a queue, a department or an agent")
        kind = TransferTo.QUEUE if transfer.department is None and target in rules.queues else TransferTo.DEPARTMENT
        route = self._route
        current = requirements_from_json(route.get("requirements"), self.row["channel"])
        queue, requirements = plan_transfer(rules, Transfer(kind, target, transfer.reason, transfer.author, now),
                                            self.row["queue"] or target, current)
        previous_agent = self.row["agent_id"]
        if previous_agent is not None:
            self.ctx.system.tell(ActorRef("agent", str(previous_agent)),
                                 m.ConversationReleased(self.ref.id, self.row["channel"], wrap_up=False))
        await self._wait_in(queue, requirements, route.get("priority") or self.ticket["priority"],
                            float(self.row["state"].get("enqueued_at", now)), placement=None, kind="transferred",
                            author=transfer.author, data={"to": kind.value, "target": target,
                                                          "reason": transfer.reason, "from_agent": previous_agent})
        return await self.view()

    async def hand_to_agent(self, agent_id: int, *, author: str, reason: str, kind: str = "assigned",
                            waited_s: float | None = None) -> None:
        """Give the conversation to a named agent, outside the queue (named transfer, VICIdial's pick;
        ``waited_s``: how long the contact waited for it, when known, for the speed of answer)."""
        previous = self.row["agent_id"]
        if previous is not None and previous != agent_id:
            self.ctx.system.tell(ActorRef("agent", str(previous)),
                                 m.ConversationReleased(self.ref.id, self.row["channel"], wrap_up=False))
        if self.row["routing_state"] in WAITING and self.row["queue"]:
            self.ctx.system.tell(ActorRef("queue", self.row["queue"]), m.Dequeue(self.ref.id, "moved"))
        data: dict[str, Any] = {"reason": reason, "from_agent": previous}
        if waited_s is not None:
            data["waited_s"] = round(max(0.0, waited_s), 3)
        if kind != "assigned":
            async with self.ctx.db.begin() as conn:
                await db.add_events(conn, self.ticket["id"], [(author, kind, {"to": "agent", "target": agent_id,
                                                                              "from_queue": self.row["queue"], **data})])
        await self._assigned(agent_id, author, data)
        self.ctx.system.tell(ActorRef("agent", str(agent_id)), m.ConversationPinned(self.ref.id, self.row["channel"],
                                                                                           self.row["id"]))
