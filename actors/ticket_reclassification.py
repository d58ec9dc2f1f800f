"""A ticket classified again: by an agent, or by a later message of the client.  Mixed into
:class:`actors.conversation.ConversationActor`.

Whoever changes a ticket's category, type or priority, the rest follows in one step: the SLA policy is
picked again for the new type and priority and its clocks re-armed (:meth:`TicketSlaClock._repicked_sla`),
a conversation waiting for an agent is placed again by the workflow (a gas emergency goes to the gas
safety agents) or keeps its place with the new priority, and each change is a ticket event.

Every later message of an open ticket is held against the classification rules that raise
(:func:`routing.classification.raise_on_message`): "Пахне газом у під'їзді" in the third message of a
chat opened with "Дякую!" makes the ticket an emergency, hands it from the chatbot to agents and tells
the supervisors on the live stream.  A message never lowers the priority.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from actors import messages as m
from actors import supervisor_notices
from actors.conversation_routing import WAITING
from actors.runtime import ActorRef
from channels.base import Inbound
from crm_core import tickets as db
from crm_core.notifications import NewNotification
from routing.classification import Classification, raise_on_message

#: Who is recorded as the author of a reclassification a client's message caused.
CLASSIFIER = "classifier"


def raised_key(ticket_number: str, rule: str) -> str:
    """The id of a raise on the wall's escalations feed and of its notifications (acknowledged together)."""
    return f"{ticket_number}:raised:{rule}"


class TicketReclassification:
    """Needs ``ctx``, ``ref``, ``row``, ``ticket``, ``settings``, ``_repicked_sla``, ``_arm_sla``,
    ``_attributes``, ``_route``, ``_place``, ``_wait_in``, ``_enqueue`` and ``_publish_state``."""

    ctx: Any
    ref: Any
    row: Any
    ticket: Any
    settings: Any
    _repicked_sla: Any
    _arm_sla: Any
    _attributes: Any
    _route: Any
    _place: Any
    _wait_in: Any
    _enqueue: Any
    _publish_state: Any

    async def _raise_from_message(self, item: Inbound) -> Classification | None:
        """Hold a later client message against the raising rules; a match raises the ticket."""
        if item.kind != "message" or not (item.text or item.subject) or self.ticket is None \
                or self.ticket["status"] == "closed":
            return None
        attributes = self.ticket.get("attributes") or {}
        current = Classification(self.ticket["category"], self.ticket["type"], self.ticket["priority"])
        raised = raise_on_message(self.settings.tickets.rules, current, text=f"{item.subject or ''} {item.text}",
                                  channel=item.channel, segment=attributes.get("segment"),
                                  identified=bool(self.ticket.get("identified")))
        if raised is None:
            return None
        new = {k: v for k, v in raised.fields().items() if v != current.fields()[k]}
        await self._classified(CLASSIFIER, new, rule=raised.rules[0])
        before = {k: current.fields()[k] for k in new}
        self._notify_raised(raised.rules[0], before)
        ticket = self.ticket
        async with self.ctx.db.begin() as conn:
            rows = await supervisor_notices.record(self, conn, NewNotification(
                ticket["id"], ticket["number"], ticket["queue"], "raised", raised_key(ticket["number"], raised.rules[0]),
                {"clock": "raised", "rule": raised.rules[0], "queue": ticket["queue"], "priority": ticket["priority"],
                 "category": ticket["category"], "before": before, "conversation": self.ref.id}))
        await supervisor_notices.deliver(self, rows)
        return raised

    async def _classified(self, author: str, new: dict[str, str], *, rule: str | None = None) -> dict[str, Any]:
        """Write a new category / type / priority with what follows from it: the SLA policy picked again,
        the conversation's place among those waiting (or, from the chatbot, its hand-over to agents)."""
        if not new:
            return {"before": {}, "after": {}, "sla_policy": self.ticket.get("sla_policy")}
        before = {k: self.ticket[k] for k in new}
        self.ticket.update(new)
        repicked = self._repicked_sla(time.time())
        changes = {**new, **(repicked.changes if repicked else {})}
        events: list[tuple[str, str, dict[str, Any]]] = [
            (author, "reclassified", {"before": before, "after": new, **({"rule": rule} if rule else {})})]
        if repicked is not None:
            events.append((author, "sla_policy_changed", repicked.event))
        async with self.ctx.db.begin() as conn:
            await db.update_ticket(conn, self.ticket["id"], **changes)
            await db.add_events(conn, self.ticket["id"], events, at=datetime.now(UTC))
        self.ticket.update(changes)
        await self._arm_sla(*(repicked.clocks if repicked else ()))
        await self._follow_classification(author, rule)
        self._publish_state()
        return {"before": before, "after": new, "sla_policy": self.ticket.get("sla_policy")}

    async def _follow_classification(self, author: str, rule: str | None) -> None:
        """Where the conversation waits after its ticket was classified again."""
        state = self.row["routing_state"]
        if state == "bot" and rule is not None:  # a client reporting an emergency to the chatbot
            await self._enqueue(time.time())
            return
        if state not in WAITING:
            return
        route = self._route
        placement = await self._place(self._attributes())
        enqueued_at = float(self.row["state"].get("enqueued_at", time.time()))
        if placement.filter_name != route.get("filter"):
            await self._wait_in(placement.queue, placement.requirements, placement.priority, enqueued_at,
                                placement=placement, kind="rerouted", author=author,
                                data={"filter": placement.filter_name, "reason": "reclassified"})
        elif placement.priority != route.get("priority"):
            self.row["state"] = {**self.row["state"], "routing": {**route, "priority": placement.priority}}
            async with self.ctx.db.begin() as conn:
                await db.update_conversation(conn, self.row["id"], state=self.row["state"])
            self.ctx.system.tell(ActorRef("queue", self.row["queue"]), m.SetPriority(self.ref.id, placement.priority))

    def _notify_raised(self, rule: str, before: dict[str, str]) -> None:
        """Tell the supervisors on the live stream (the wall's escalations feed)."""
        ticket = self.ticket
        now = time.time()
        self.ctx.publish({"type": "escalation", "id": raised_key(ticket["number"], rule), "agent_id": ticket["agent_id"],
                          "state": {"ticket": ticket["number"], "clock": "raised", "kind": "raised", "rule": rule,
                                    "queue": ticket["queue"], "priority": ticket["priority"],
                                    "category": ticket["category"], "type": ticket["type"], "before": before,
                                    "sla_policy": ticket.get("sla_policy"), "detected_at": now,
                                    "conversation": self.ref.id}})
