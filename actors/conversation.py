"""ConversationActor: one per open thread (a chat, an e-mail thread, a call, a web-chat session).

On the first inbound item it identifies the client, opens the ticket (number, channel, time and client
fixed from then on), classifies it, links repeat contacts, starts its SLA clocks
(:mod:`actors.sla_clock`) and routes the conversation by the workflow (:mod:`actors.conversation_routing`)
— all before any agent sees it.  Later items join the same ticket, and each later message may raise it
(a gas leak reported at any point: :mod:`actors.ticket_reclassification`); agent replies go back through
the channel (:mod:`actors.ticket_work`).  Every change is a ticket event and a live event.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from actors import messages as m
from actors.call_life import CallLife, CallRecord, observe_mode
from actors.conversation_routing import ROUTE_REMINDER, ConversationRouting, Waiting, routing_attributes
from actors.conversation_view import conversation_event, message_event, offer_preview, public, ticket_summary
from actors.runtime import Batch, Entity, ReminderFired
from actors.sla_clock import SLA_REMINDER, TicketSlaClock, new_ticket_sla
from actors.ticket_reclassification import TicketReclassification
from actors.ticket_work import TicketWork
from channels.base import Address, Inbound
from channels.serialization import inbound_from_json
from crm_core import tickets as db
from routing.classification import Classification, classify
from routing.workflow import Placement

log = logging.getLogger(__name__)

OPENING_KINDS = {"message", "call_event", "contact_shared"}
#: How often a host removes its shard's handled inbox items older than ``keep_handled_days``.
PRUNE_EVERY_S = 300.0


@dataclass(frozen=True, slots=True)
class Opening:
    """What a conversation's first inbound item opens: who wrote (None: anonymous), the ticket's
    classification, and the placement when it goes straight to agents."""

    who: Any
    classification: Classification
    placement: Placement | None


#: Reminder names of earlier versions that still mean "look at the SLA".
LEGACY_SLA_REMINDERS = ("sla_first_response", "sla_resolution")


class ConversationActor(TicketWork, TicketReclassification, TicketSlaClock, ConversationRouting, Entity):
    kind = "conversation"
    idle_timeout_s = 120.0
    batched = (m.InboxDelivery,)

    async def on_activate(self) -> None:
        autocommit = self.ctx.services.autocommit
        self.row = await db.find_open_conversation(autocommit, self.ref.id)
        self.ticket = await db.load_ticket(autocommit, self.row["ticket_id"]) if self.row and self.row["ticket_id"] else None
        self._card: Any = None
        self._stale = False
        self.call_agents: dict[str, int | None] = {}  # extension -> agent, while a call is active

    @classmethod
    async def on_host_start(cls, host: Any) -> None:
        """The host takes what the inbox announces for its shard (:mod:`actors.inbox_notices`)."""
        await host.services.inbox.follow(host.settings.shard, host.tell)

    @classmethod
    async def host_duty(cls, host: Any) -> None:
        """Hand again to their conversations this shard's inbox items stored but not handled in time, and
        remove the handled ones past their retention, each on a loop of its own (a long removal delays no
        redelivery)."""
        await asyncio.gather(cls._redeliver(host), cls._prune(host))

    @staticmethod
    async def _redeliver(host: Any) -> None:
        """The items' host missed the notice or died before handling them.  A host that has just started
        (after a crash, say) takes every item of its shard still pending at once: no other host holds
        them, and waiting ``redeliver_after_s`` would only delay the contacts its predecessor left."""
        engine = host.services.settings.engine
        older_than_s = 0.0
        while True:
            await asyncio.sleep(engine.sweep_every_s if older_than_s else 0.0)
            in_flight = [d.inbox_id for d in host.pending(lambda msg: isinstance(msg, m.InboxDelivery))]
            try:
                await host.services.inbox.redeliver_pending(host.settings.shard, older_than_s, skip=in_flight)
            except Exception:
                log.exception("inbox sweep of shard %s failed", host.settings.shard)
                continue
            older_than_s = engine.redeliver_after_s

    @staticmethod
    async def _prune(host: Any) -> None:
        keep = timedelta(days=host.services.settings.engine.keep_handled_days)
        while True:
            await asyncio.sleep(PRUNE_EVERY_S)
            try:
                await host.services.inbox.prune_handled(host.settings.shard, keep)
            except Exception:
                log.exception("removing handled inbox items of shard %s failed", host.settings.shard)

    def wants_passivation(self) -> bool:
        return self._stale or self.row is None or self.row["status"] == "closed"

    def failed(self, error: Exception) -> None:
        # A rolled-back transaction may have left row/ticket in memory that were never stored.
        self._stale = True

    def describe(self) -> dict[str, Any]:
        return {"conversation_id": self.row and self.row["id"], "ticket": self.ticket and self.ticket["number"],
                "routing": self.row and self.row["routing_state"], "agent": self.row and self.row["agent_id"]}

    @property
    def settings(self) -> Any:
        return self.ctx.services.settings

    async def receive(self, message: Any) -> Any:
        match message:
            case m.InboxDelivery():
                return await self._inbound(message)
            case Batch(messages=deliveries):
                return await self._inbound_together(deliveries)
            case m.OfferMade():
                return await self._offered(message)
            case m.OfferWithdrawn():
                return await self._offer_withdrawn(message)
            case m.Overflow():
                return await self._overflowed(message)
            case m.AssignTo():
                return await self._assign(message)
            case m.BackToQueue():
                return await self._back_to_queue(message.reason)
            case m.Reply() | m.AddNote() | m.ChangeStatus() | m.Reclassify() | m.Transfer() if self.ticket is None:
                raise LookupError(f"conversation {self.ref.id} has no ticket")
            case m.Reply():
                return await self._reply(message)
            case m.AddNote():
                return await self._note(message)
            case m.ChangeStatus():
                return await self._change_status(message.author, message.status, message.comment)
            case m.Reclassify():
                return await self._reclassify(message)
            case m.Transfer():
                return await self._transfer(message)
            case m.GetConversation():
                return await self.view()
            case ReminderFired(name=name, due_at=due_at) if name == ROUTE_REMINDER:
                return await self._route_due(due_at.timestamp())
            case ReminderFired(name=name, due_at=due_at) if name == SLA_REMINDER or name in LEGACY_SLA_REMINDERS:
                return await self._sla_due(due_at.timestamp())
            case ReminderFired(name=name):
                log.warning("conversation %s: unknown reminder %r ignored", self.ref.id, name)
                return None
        raise TypeError(f"conversation cannot handle {type(message).__name__}")

    # --- inbound ---------------------------------------------------------------------------------

    async def _inbound(self, delivery: m.InboxDelivery) -> dict[str, Any]:
        return await self._take(inbound_from_json(delivery.payload), delivery)

    async def _inbound_together(self, deliveries: tuple[m.InboxDelivery, ...]) -> None:
        """Inbox items that waited together, in order: a run of events of a call with a ticket joins it in
        one statement; anything else is taken one by one.  Should one fail, the items after it stay
        unhandled in the inbox, which delivers them again."""
        calls: list[tuple[Inbound, m.InboxDelivery]] = []
        for delivery in deliveries:
            item = inbound_from_json(delivery.payload)
            if self.ticket is not None and item.kind == "call_event":
                calls.append((item, delivery))
                continue
            await self._add_calls_to_ticket(calls)
            calls = []
            await self._take(item, delivery)
        await self._add_calls_to_ticket(calls)

    async def _take(self, item: Inbound, delivery: m.InboxDelivery) -> dict[str, Any]:
        if item.kind in ("edit", "delivery_status"):
            return await self._update_message(item, delivery.inbox_id)
        if self.row is None and item.kind == "call_event" and item.metadata.get("call_event") != "started":
            await self._find_closed_call()
        if self.ticket is not None:
            stored = await self._add_to_ticket(item, delivery)
        else:
            stored = await self._first_inbound(item, delivery)
        return {"conversation_id": self.row and self.row["id"], "ticket": self.ticket and self.ticket["number"], "duplicate": stored is None}

    async def _first_inbound(self, item: Inbound, delivery: m.InboxDelivery) -> int | None:
        """An item of a conversation without a ticket yet: the first of a thread opens its ticket."""
        opening = await self._opening(item) if item.kind in OPENING_KINDS else None
        waiting = None
        # Everything this transaction writes is rebuilt from the inbox if it is lost (the inbox row stays
        # unprocessed and is delivered again), so it need not wait for the WAL flush.
        async with self.ctx.transaction(relaxed=True) as conn:
            self.row, stored, seq = await db.receive_first(conn, item.thread_key, item.channel,
                                                           self._message(item, delivery), number=opening is not None)
            changes: dict[str, Any] = {}
            if stored is not None and item.channel == "email" and item.kind == "message":
                self.row["state"] = changes["state"] = {**self.row["state"], **email_thread(item)}
            if stored is not None and opening is not None:
                waiting = await self._open_ticket(conn, item, opening, db.ticket_number(
                    self.settings.tickets.number_format, seq), stored, delivery.inbox_id, changes)
            else:
                if changes:
                    await db.update_conversation(conn, self.row["id"], **changes)
                await db.mark_inbox_processed(conn, delivery.inbox_id)
        if stored is not None and opening is not None:
            await self._after_ticket_opened(item, delivery.inbox_id, waiting)
            if item.kind == "call_event":
                await CallLife.react(self, item)
        return stored

    async def _add_to_ticket(self, item: Inbound, delivery: m.InboxDelivery) -> int | None:
        """A later item of a conversation with a ticket: its message, what it changes on the ticket (a
        call event's call attributes and event) and on the conversation (an e-mail's thread), and the
        inbox item done, in one statement; then it is shown and acted on."""
        state = {**self.row["state"], **email_thread(item)} if item.channel == "email" and item.kind == "message" \
            else None
        call = CallRecord.of(self.ticket, item) if item.kind == "call_event" else None
        stored = await db.add_to_ticket(
            self.ctx.services.inbound_writes, self._message(item, delivery), inbox_id=delivery.inbox_id,
            ticket_attributes=call.attributes if call else None, events=[call.event] if call else [],
            conversation_state=state)
        if stored is None:
            return None
        if state is not None:
            self.row["state"] = state
        if call is not None:
            self.ticket["attributes"] = call.attributes
            await CallLife.react(self, item)
        else:
            await self._joined(item, delivery.inbox_id)
        return stored

    async def _add_calls_to_ticket(self, calls: list[tuple[Inbound, m.InboxDelivery]]) -> None:
        """Events of the call with a ticket, in order, in one statement (:func:`crm_core.tickets.add_calls_to_ticket`);
        then each new one is acted on."""
        if len(calls) < 2:
            for item, delivery in calls:
                await self._add_to_ticket(item, delivery)
            return
        ticket, records = self.ticket, []
        for item, _ in calls:
            records.append(CallRecord.of(ticket, item))
            ticket = {**ticket, "attributes": records[-1].attributes}
        stored = await db.add_calls_to_ticket(
            self.ctx.services.inbound_writes, [self._message(item, delivery) for item, delivery in calls],
            inbox_ids=[delivery.inbox_id for _, delivery in calls], events=[r.event for r in records],
            ticket_attributes=records[-1].attributes)
        new = [item for item, _ in calls if item.dedupe_key in stored]
        if len(new) == len(calls):
            self.ticket["attributes"] = records[-1].attributes
        elif new:  # some were stored before (delivered again): the call attributes of the new ones only
            for item in new:
                self.ticket["attributes"] = CallRecord.of(self.ticket, item).attributes
            await db.update_ticket(self.ctx.services.inbound_writes, self.ticket["id"],
                                   attributes=self.ticket["attributes"])
        for item in new:
            await CallLife.react(self, item)

    def _message(self, item: Inbound, delivery: m.InboxDelivery) -> db.NewMessage:
        meta = item.metadata
        row = self.row or {"id": None, "ticket_id": None}  # a new thread's conversation opens with its first message
        return db.NewMessage(
            row["id"], row["ticket_id"], "event" if item.kind in ("call_event", "control") else "in",
            f"{item.sender.kind}:{item.sender.value}",
            item.text or str(meta.get("call_event") or meta.get("event") or ""), item.dedupe_key,
            attachments=delivery.payload["attachments"],
            external_id=meta.get("external_id") or meta.get("message_id"), at=item.occurred_at)

    async def _opening(self, item: Inbound) -> Opening:
        """What a first inbound item opens, decided before its transaction: the client, the ticket's
        classification and, when the conversation goes straight to agents, where it waits."""
        who = await self._identify(item.sender, item.metadata, with_card=item.channel == "voice")
        client_id = getattr(who, "client_id", None)
        segment = getattr(who, "segment", None)
        result = classify(self.settings.tickets.rules, text=f"{item.subject or ''} {item.text}",
                          channel=item.channel, segment=segment, identified=client_id is not None)
        placement = None
        if self._routes_at_once(item):
            placement = await self._place(routing_attributes(item.channel, {
                "category": result.category, "type": result.type, "priority": result.priority,
                "identified": client_id is not None,
                "attributes": {"segment": segment, "language": getattr(who, "language", None)}}))
        return Opening(who, result, placement)

    def _routes_at_once(self, item: Inbound) -> bool:
        """A new conversation waits for an agent at once unless VICIdial routes the call or the chatbot
        answers first."""
        if item.channel == "voice" and observe_mode(item):
            return False
        chatbot = self.ctx.services.chatbot
        return chatbot is None or not chatbot.serves(item.channel)

    async def _find_closed_call(self) -> None:
        """A call's late events (hang-up, recording) after its ticket was closed join that ticket
        instead of opening a new one."""
        async with self.ctx.db.connect() as conn:
            closed = await db.latest_conversation(conn, self.ref.id)
            if closed is not None and closed["ticket_id"] is not None:
                self.row, self.ticket = closed, await db.load_ticket(conn, closed["ticket_id"])

    async def _joined(self, item: Inbound, inbox_id: int) -> None:
        """A later item of an open conversation: show it, reopen a resolved ticket, let the bot answer, raise
        the ticket when the message calls for it (an emergency goes to agents at once)."""
        if item.kind == "control":
            return
        self.ctx.publish(message_event(self.ref.id, self.row, self.ticket, item.text, "in"))
        if item.kind == "contact_shared":
            await self._contact_shared(item)
        if self.ticket["status"] in ("resolved", "on_hold") and item.kind == "message":
            await self._change_status("system", "in_progress", "client wrote again")
        # the bot answers first (a gas leak gets its safety advice at once); the ticket is raised before the
        # hand-over, so an emergency waits where emergencies wait
        handed_over = self.row["routing_state"] == "bot" and await self._bot(item, inbox_id)
        await self._raise_from_message(item)
        if handed_over and self.row["routing_state"] == "bot":
            await self._enqueue(time.time())

    async def _update_message(self, item: Inbound, inbox_id: int) -> dict[str, Any]:
        """An edited message replaces its text; a delivery report sets the status of a sent message."""
        meta = item.metadata
        async with self.ctx.db.begin() as conn:
            if self.row is None:
                self.row = await db.open_conversation(conn, item.thread_key, item.channel)
            if item.kind == "edit":
                changed = await db.edit_message(conn, self.row["id"], str(meta.get("edit_of")), item.text)
            else:
                changed = await db.set_delivery_status(conn, self.row["id"],
                                                       str(meta.get("external_id") or meta.get("message_token")),
                                                       str(meta.get("status")))
            await db.mark_inbox_processed(conn, inbox_id)
        if changed and item.kind == "edit":
            self.ctx.publish(message_event(self.ref.id, self.row, self.ticket, item.text, "edit"))
        return {"conversation_id": self.row and self.row["id"], "ticket": self.ticket and self.ticket["number"], "updated": changed}

    async def _contact_shared(self, item: Inbound) -> None:
        """The client shared a phone after the ticket opened: the match is recorded beside the ticket
        (its client is fixed at creation) and the card follows it."""
        who = await self._identify(item.sender, item.metadata)
        shared = {"phone": item.metadata.get("phone"), "client_id": getattr(who, "client_id", None)}
        attributes = {**(self.ticket.get("attributes") or {}), "shared_contact": shared}
        async with self.ctx.db.begin() as conn:
            await db.update_ticket(conn, self.ticket["id"], attributes=attributes)
            await db.add_events(conn, self.ticket["id"], [("client", "contact_shared", shared)])
        self.ticket["attributes"] = attributes
        self._card = None

    async def _identify(self, sender: Address, metadata: Any, *, with_card: bool = False) -> Any:
        """The client of a sender; ``with_card`` brings their card along in the same call to the CRM pool
        (a call's, which pops on the agent's desktop as soon as it rings)."""
        phone = metadata.get("phone") if hasattr(metadata, "get") else None
        kind, value = ("phone", phone) if phone else (sender.kind, sender.value)
        if kind not in ("phone", "email", "telegram", "viber"):
            return None
        try:
            if with_card:
                who, self._card = await self.ctx.services.crm.identify_with_card(kind, value)
                return who
            return await self.ctx.services.crm.identify(kind, value)
        except Exception:
            log.exception("identification of %s %s failed; the ticket opens anonymous", kind, value)
            return None

    async def _open_ticket(self, conn: Any, item: Inbound, opening: Opening, number: str, message_id: int,
                           inbox_id: int, changes: dict[str, Any]) -> Waiting | None:
        """Open the ticket in the inbound item's transaction -- with its first message, the conversation's
        ``changes``, the inbox item done, its SLA reminder and, when it goes straight to agents, its place
        in the queue (returned, for the queue to be told after the commit)."""
        tickets, who, result, placement = self.settings.tickets, opening.who, opening.classification, opening.placement
        client_id = getattr(who, "client_id", None)
        segment = getattr(who, "segment", None)
        accounts = list(getattr(who, "account_ids", None) or [])
        now = datetime.now(UTC)
        policy, sla_state, due = new_ticket_sla(self.ctx.services.sla.current, result.type, result.priority, now)
        values = dict(
            conversation_id=self.row["id"], channel=item.channel, created_at=now,
            client_id=client_id, account_id=accounts[0] if accounts else None, identified=client_id is not None,
            sender=item.sender.value, subject=item.subject, category=result.category, type=result.type,
            priority=result.priority, status=tickets.lifecycle.initial, sla_policy=policy,
            queue=placement.queue if placement else None, **due,
            attributes={"segment": segment, "client_name": getattr(who, "full_name", None),
                        "language": getattr(who, "language", None) or "uk", "sla": sla_state,
                        "preview": offer_preview(item.subject, item.text)})
        self.ticket = {"id": None, "number": number, **values}  # what the queue place is decided from
        waiting = None
        if placement is not None:
            waiting = self._waiting(placement.queue, placement.requirements, placement.priority, now.timestamp(),
                                    placement=placement, kind="queued", data={"filter": placement.filter_name})
            changes.update(waiting.conversation)
        events = [("system", "created", {"channel": item.channel, "identified": client_id is not None,
                                         "sender": item.sender.value}),
                  ("system", "classified", {"category": result.category, "type": result.type,
                                            "priority": result.priority, "rules": list(result.rules)}),
                  *([waiting.event] if waiting else [])]
        if item.kind == "call_event":  # the call's first event, on the ticket it opens
            call = CallRecord.of(values, item)
            values["attributes"] = call.attributes
            events.append(call.event)
        self.ticket = await db.open_ticket(
            conn, number=number, values=values, events=events, at=now, message_id=message_id,
            conversation_id=self.row["id"], conversation=changes, inbox_id=inbox_id,
            repeat_since=now - timedelta(hours=tickets.repeat_window_hours))
        self.row["ticket_id"] = self.ticket["id"]
        await self._arm_sla(conn=conn)
        if waiting is not None:
            await self._start_waiting(conn, waiting)
        return waiting

    async def _after_ticket_opened(self, item: Inbound, inbox_id: int, waiting: Waiting | None) -> None:
        self.ctx.publish({"type": "ticket", "id": self.ticket["number"], "state": ticket_summary(self.ticket)})
        if waiting is not None:
            self._join_queue(waiting)
            return
        if item.channel == "voice" and observe_mode(item):
            self._publish_state()  # VICIdial routes the call; the conversation follows its agent
            return
        self.row["routing_state"] = "bot"
        if await self._bot(item, inbox_id):
            await self._enqueue(time.time())
        else:
            self._publish_state()

    async def _bot(self, item: Inbound, inbox_id: int) -> bool:
        """The bot answers a client message; True when it hands the conversation over to an agent."""
        if item.kind not in ("message", "contact_shared"):
            return False
        try:
            return await self.ctx.services.chatbot.answer(self, item, inbox_id)
        except Exception:
            log.exception("chatbot failed on %s; handing over to an agent", self.ref.id)
            return True

    # --- views -----------------------------------------------------------------------------------

    async def view(self) -> dict[str, Any]:
        """The conversation as the agent's workspace shows it; a thread whose conversation was closed shows
        that closed conversation and its ticket (read only: a new contact on the thread opens a new one)."""
        if self.row is None:
            return await self._closed_view()
        async with self.ctx.db.connect() as conn:
            messages = await db.conversation_messages(conn, self.row["id"])
        return {"conversation": public(self.row), "ticket": public(self.ticket), "messages": messages,
                "card": await self.card(), "sla": self.sla_view()}

    async def _closed_view(self) -> dict[str, Any]:
        async with self.ctx.db.connect() as conn:
            row = await db.latest_conversation(conn, self.ref.id)
            ticket = await db.load_ticket(conn, row["ticket_id"]) if row and row["ticket_id"] else None
            messages = await db.conversation_messages(conn, row["id"]) if row else []
        return {"conversation": public(row), "ticket": public(ticket), "messages": messages, "card": None,
                "sla": self.sla_view(ticket) if ticket else None}

    async def card(self) -> Any:
        """The client card (cached while active; a call's comes with its identification): the ticket's
        client, or the one a shared contact named."""
        if self._card is None and self.ticket is not None:
            client_id = self.ticket["client_id"] or \
                ((self.ticket.get("attributes") or {}).get("shared_contact") or {}).get("client_id")
            if client_id is not None:
                try:
                    self._card = await self.ctx.services.crm.client_card(client_id)
                except Exception:
                    log.exception("client card of %s failed", client_id)
        return self._card

    def _publish_state(self) -> None:
        if self.row is not None:
            self.ctx.publish(conversation_event(self.ref.id, self.row, self.ticket))


def email_thread(item: Inbound) -> dict[str, Any]:
    """What a reply needs to thread under the client's last e-mail."""
    meta = item.metadata
    references = list(meta.get("references") or [])
    if meta.get("message_id") and meta["message_id"] not in references:
        references.append(meta["message_id"])
    return {"last_message_id": meta.get("message_id"), "references": references[-20:]}
