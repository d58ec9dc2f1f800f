"""What agents do on a conversation's ticket: reply through the channel, add internal notes, move the
ticket through its statuses, correct its classification.  Mixed into :class:`ConversationActor`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from actors import messages as m
from actors.conversation_routing import ROUTE_REMINDER
from actors.conversation_view import address_kind, message_event
from actors.runtime import ActorRef
from channels.base import Address, Button, Outbound
from crm_core import tickets as db
from routing.ticket_lifecycle import TransitionRefused


class TicketWork:
    """Needs ``ctx``, ``ref``, ``row``, ``ticket``, ``settings``, ``_publish_state``, ``_classified`` (a
    new classification and what follows from it) and the SLA hooks (``_sla_responded``, ``_sla_status``)
    of the actor."""

    ctx: Any
    ref: Any
    row: Any
    ticket: Any
    settings: Any
    _publish_state: Any
    _sla_responded: Any
    _sla_status: Any
    _classified: Any

    async def _reply(self, reply: m.Reply) -> dict[str, Any]:
        thread = self.row["state"]
        outbound = Outbound(channel=self.row["channel"], thread_key=self.ref.id,
                            recipient=Address(address_kind(self.row["channel"]), self.ticket["sender"] or ""),
                            text=reply.text, dedupe_key=reply.dedupe_key, subject=self.ticket["subject"],
                            buttons=tuple(tuple(Button(b["text"], b["payload"]) for b in row) for row in reply.buttons),
                            metadata={"ticket_number": self.ticket["number"],
                                      "in_reply_to": thread.get("last_message_id"),
                                      "references": thread.get("references", [])})
        receipt = await self.ctx.services.channels.send(outbound)
        now = datetime.now(UTC)
        async with self.ctx.db.begin() as conn:
            stored = await db.store_message(conn, db.NewMessage(
                self.row["id"], self.ticket["id"], "out", f"agent:{reply.author_id}", reply.text, reply.dedupe_key,
                external_id=receipt.external_id, at=now))
            if stored is not None and self.ticket["first_response_at"] is None:
                await db.update_ticket(conn, self.ticket["id"], first_response_at=now)
                await db.add_events(conn, self.ticket["id"], [(f"agent:{reply.author_id}", "first_response", {})])
                self.ticket["first_response_at"] = now
        if stored is not None and self.ticket["first_response_at"] == now:
            await self._sla_responded()
        self.ctx.publish(message_event(self.ref.id, self.row, self.ticket, reply.text, "out"))
        return {"message_id": stored, "external_id": receipt.external_id, "duplicate": stored is None}

    async def _note(self, note: m.AddNote) -> dict[str, Any]:
        stored = await db.store_message(self.ctx.services.autocommit, db.NewMessage(
            self.row["id"], self.ticket["id"], "note", f"agent:{note.author_id}", note.text, note.dedupe_key))
        return {"message_id": stored, "duplicate": stored is None}

    async def _change_status(self, author: str, status: str, comment: str | None) -> dict[str, Any]:
        current = self.ticket["status"]
        if status == current:
            return {"status": current}
        self.settings.tickets.lifecycle.check(current, status)
        now = datetime.now(UTC)
        changes: dict[str, Any] = {"status": status}
        if status == "resolved":
            changes["resolved_at"] = now
        if status == "closed":
            changes["closed_at"] = now
        async with self.ctx.db.begin() as conn:
            await db.update_ticket(conn, self.ticket["id"], **changes)
            await db.add_events(conn, self.ticket["id"], [(author, "status", {"from": current, "to": status,
                                                                              "comment": comment})], at=now)
            if status == "closed":
                await db.update_conversation(conn, self.row["id"], status="closed", routing_state="done")
        self.ticket.update(changes)
        await self._sla_status(status)
        if status in ("resolved", "closed"):
            await self._finish(status)
        self._publish_state()
        return {"status": status}

    async def _finish(self, status: str) -> None:
        if self.row["agent_id"] is not None:
            self.ctx.system.tell(ActorRef("agent", str(self.row["agent_id"])),
                                 m.ConversationReleased(self.ref.id, self.row["channel"]))
        elif self.row["routing_state"] in ("queued", "offered") and self.row["queue"]:
            self.ctx.system.tell(ActorRef("queue", self.row["queue"]), m.Dequeue(self.ref.id))
            await self.ctx.cancel_reminder(ROUTE_REMINDER)
        if status == "closed":
            self.row["status"] = "closed"

    async def _reclassify(self, change: m.Reclassify) -> dict[str, Any]:
        tickets = self.settings.tickets
        new = {k: v for k, v in (("category", change.category), ("type", change.type),
                                 ("priority", change.priority)) if v is not None}
        if "type" in new and new["type"] not in tickets.types:
            raise TransitionRefused(f"unknown type {new['type']!r}")
        if "priority" in new and new["priority"] not in tickets.priorities:
            raise TransitionRefused(f"unknown priority {new['priority']!r}")
        if "category" in new and new["category"] not in tickets.categories:
            raise TransitionRefused(f"unknown category {new['category']!r}")
        return await self._classified(change.author, {k: v for k, v in new.items() if v != self.ticket[k]})

