"""An abandoned call is work: a caller who hung up before an agent answered (in the queue or in the IVR,
observe or route mode) gets a **call-back** -- the call's ticket becomes type ``callback`` with the
call-back SLA policy of ``config/sla.toml`` (its clocks start when the caller hung up), keeps the caller's
number in ``attributes.call_back`` and waits in the call-back queue of ``config/routing.toml`` for an
agent, who calls back from the desktop (click-to-call).  Only inbound calls: an unanswered call of our
own (a call-back that nobody picked up) does not make another."""

from __future__ import annotations

import logging
import time
from typing import Any

from actors.routing_rules import requirements_from_json
from channels.base import Inbound
from crm_core import tickets as db
from routing.sla import TicketSla

log = logging.getLogger(__name__)

CALL_BACK_QUEUE = "callback"
CALL_BACK_TYPE = "callback"


def is_abandoned_inbound(metadata: dict[str, Any]) -> bool:
    return bool(metadata.get("abandoned")) and metadata.get("direction", "inbound") == "inbound"


def is_call_back(ticket: dict[str, Any] | None) -> bool:
    return bool(ticket and (ticket.get("attributes") or {}).get("call_back"))


async def call_back(conversation: Any, item: Inbound) -> None:
    """Turn the abandoned call of ``conversation`` into a call-back waiting in the call-back queue."""
    ticket = conversation.ticket
    if ticket is None or is_call_back(ticket) or conversation.row["agent_id"] is not None:
        return
    if CALL_BACK_QUEUE not in conversation._rules.queues:
        log.warning("call %s was abandoned but no %r queue is configured: no call-back", conversation.ref.id,
                    CALL_BACK_QUEUE)
        return
    meta = item.metadata
    details = {"number": meta.get("caller") or ticket.get("sender"), "abandoned_at": item.occurred_at.isoformat(),
               "wait_seconds": meta.get("wait_seconds"), "in_queue": bool(meta.get("abandoned_in_queue")),
               "from_queue": ticket.get("queue")}
    ticket["attributes"] = {**(ticket.get("attributes") or {}), "call_back": details}
    changes: dict[str, Any] = {"type": CALL_BACK_TYPE, "attributes": ticket["attributes"]}
    policy = conversation._sla_config.policies.for_ticket(CALL_BACK_TYPE, ticket["priority"])
    sla = TicketSla(policy, item.occurred_at.timestamp()) if policy is not None else None
    if sla is not None:
        changes = conversation._sla_changes(sla, (), sla_policy=policy.name, type=CALL_BACK_TYPE)
    async with conversation.ctx.transaction() as conn:
        await db.update_ticket(conn, ticket["id"], **changes)
        await db.add_events(conn, ticket["id"], [("pbx", "call_back", {**details, "sla_policy": policy and policy.name})])
    ticket.update(changes)
    priority = ticket["priority"]
    await conversation._wait_in(CALL_BACK_QUEUE, requirements_from_json(None, "voice"), priority, time.time(),
                                placement=None, kind="queued", data={"reason": "call_back"}, author="pbx")
    if sla is not None:
        await conversation._arm_sla(sla, set())
