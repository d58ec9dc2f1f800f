"""A call's life on its ticket: every AMI call event (normalised by the voice channel) updates the
ticket's call attributes; the ringing agent gets the client card before the call connects; in observe
mode (VICIdial routes) the conversation follows the agent VICIdial picked, in route mode the agent who
accepts the offer gets the call by an AMI Redirect."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from actors import messages as m
from actors.call_back import call_back, is_abandoned_inbound, is_call_back
from actors.conversation_view import ticket_summary
from actors.runtime import ActorRef
from channels.base import Inbound
from crm_core import agents
from crm_core import tickets as db

log = logging.getLogger(__name__)

CALL_FIELDS = ("linkedid", "caller", "did", "queue", "agent", "vicidial", "asterisk_channel", "mode",
               "recording", "hangup_cause", "hangup_cause_txt", "abandoned", "wait_seconds", "talk_seconds")


def observe_mode(item_or_ticket: Any) -> bool:
    metadata = item_or_ticket.metadata if isinstance(item_or_ticket, Inbound) else \
        (item_or_ticket.get("attributes") or {}).get("call", {})
    return metadata.get("mode", "observe") == "observe"


async def agent_of_extension(conversation: Any, extension: str) -> int | None:
    """The agent at ``extension``, looked up once per call (it rings, then answers, the same phone)."""
    known = conversation.call_agents
    if extension not in known:
        known[extension] = await agents.agent_at_extension(conversation.ctx.services.autocommit, str(extension))
    return known[extension]


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What one call event writes on its ticket: the call attributes after it and a ``call_*`` event (with
    the ticket the call's first event opens, with their message for the later ones)."""

    attributes: dict[str, Any]
    event: db.Event

    @classmethod
    def of(cls, ticket: dict[str, Any], item: Inbound) -> CallRecord:
        meta = item.metadata
        event = meta.get("call_event", "unknown")
        attributes = dict(ticket.get("attributes") or {})
        call = dict(attributes.get("call") or {})
        call.update({k: meta[k] for k in CALL_FIELDS if meta.get(k) is not None})
        call["state"] = event
        call["timeline"] = [*call.get("timeline", ()), {"event": event, "at": item.occurred_at.isoformat(),
                                                         "agent": meta.get("agent")}]
        attributes["call"] = call
        return cls(attributes, ("pbx", f"call_{event}", {
            k: meta[k] for k in ("agent", "queue", "hangup_cause", "abandoned", "wait_seconds", "talk_seconds")
            if meta.get(k) is not None}))


class CallLife:
    @staticmethod
    async def react(conversation: Any, item: Inbound) -> None:
        """After the commit: the ringing agent gets the card, the conversation follows VICIdial's agent,
        a hang-up releases the agent or leaves the queue."""
        meta = item.metadata
        event = meta.get("call_event", "unknown")
        agent = meta.get("agent")
        if event == "ringing" and agent:
            await CallLife._screen_pop(conversation, str(agent))
        elif event in ("answered", "transferred") and agent and observe_mode(item):
            await CallLife._follow_agent(conversation, str(agent), item)
        elif event == "hangup":
            await CallLife._hung_up(conversation, item)

    @staticmethod
    async def _screen_pop(conversation: Any, extension: str) -> None:
        agent_id = await agent_of_extension(conversation, extension)
        if agent_id is None:
            log.info("call %s rings extension %s, which is no agent of ours", conversation.ref.id, extension)
            return
        ticket = conversation.ticket
        conversation.ctx.publish({"type": "screen_pop", "id": conversation.ref.id,
                                  "conversation_id": conversation.row["id"], "agent_id": agent_id,
                                  "state": {"ticket": ticket_summary(ticket), "card": await conversation.card(),
                                            "caller": ticket.get("sender"), "call": ticket["attributes"]["call"]}},
                                 at_once=True)

    @staticmethod
    async def _follow_agent(conversation: Any, extension: str, item: Inbound) -> None:
        agent_id = await agent_of_extension(conversation, extension)
        if agent_id is None or agent_id == conversation.row["agent_id"]:
            return
        # The caller waited from the call's first event (the ticket's creation) to this answer.
        waited = (item.occurred_at - conversation.ticket["created_at"]).total_seconds() \
            if conversation.row["agent_id"] is None and conversation.ticket.get("created_at") else None
        await conversation.hand_to_agent(agent_id, author="pbx", reason="answered in VICIdial", waited_s=waited)

    @staticmethod
    async def _hung_up(conversation: Any, item: Inbound) -> None:
        """The caller is gone: the agent is released, or the call leaves its queue; an inbound call
        nobody answered becomes a call-back."""
        row = conversation.row
        abandoned = is_abandoned_inbound(item.metadata)
        if is_call_back(conversation.ticket):
            return  # a call-back already waits or was taken: the later call's hang-up changes nothing
        if row["agent_id"] is not None:
            conversation.ctx.system.tell(ActorRef("agent", str(row["agent_id"])),
                                         m.ConversationReleased(conversation.ref.id, "voice"))
        elif row["routing_state"] in ("queued", "offered") and row["queue"]:
            conversation.ctx.system.tell(ActorRef("queue", row["queue"]),
                                         m.Dequeue(conversation.ref.id, "abandoned" if abandoned else "moved"))
            row["routing_state"] = "done"
        if abandoned:
            conversation.ctx.publish({"type": "call_abandoned", "id": conversation.ref.id, "conversation_id": row["id"],
                                      "state": {"ticket": conversation.ticket["number"]}})
            await call_back(conversation, item)

    @staticmethod
    async def redirect_to(conversation: Any, agent_id: int) -> None:
        """Route mode: send the caller to the extension of the agent who accepted."""
        async with conversation.ctx.db.connect() as conn:
            extension = await agents.extension_of(conn, agent_id)
        call = (conversation.ticket.get("attributes") or {}).get("call", {})
        if not extension or not call.get("linkedid"):
            log.warning("call %s: agent %s has no extension to redirect to", conversation.ref.id, agent_id)
            return
        await conversation.ctx.services.channels.call_control("voice").redirect(call["linkedid"], str(extension))
