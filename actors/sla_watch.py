"""The SLA side of a conversation: deadlines for a new ticket, breaches recorded as ticket events and
escalated to the live stream when a durable reminder fires."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from actors.runtime import ReminderFired
from crm_core import tickets as db

# First response and resolution targets by priority, in minutes of wall-clock time.
DEFAULT_TARGETS = {"urgent": (15, 240), "high": (60, 1440), "normal": (240, 4320), "low": (480, 7200)}


class SlaWatch:
    def __init__(self, targets: dict[str, tuple[int, int]] | None = None) -> None:
        self.targets = targets or DEFAULT_TARGETS

    def deadlines(self, ticket_type: str, priority: str, opened_at: datetime) -> tuple[datetime, datetime]:
        first, resolution = self.targets.get(priority, self.targets["normal"])
        return opened_at + timedelta(minutes=first), opened_at + timedelta(minutes=resolution)

    def status_changed(self, conversation: Any, before: str, after: str) -> None:
        """Wall-clock targets do not pause; the routing engine's SLA clocks do."""

    async def reminder_fired(self, conversation: Any, reminder: ReminderFired) -> None:
        ticket = conversation.ticket
        if ticket is None or ticket["status"] in ("resolved", "closed"):
            return
        if reminder.name == "sla_first_response" and ticket["first_response_at"] is not None:
            return
        clock = reminder.name.removeprefix("sla_")
        async with conversation.ctx.db.begin() as conn:
            await db.add_events(conn, ticket["id"], [("sla", "sla_breached", {
                "clock": clock, "due_at": reminder.due_at.isoformat()})])
        conversation.ctx.publish({"type": "escalation", "id": f"{ticket['number']}:{clock}",
                                  "agent_id": ticket["agent_id"],
                                  "state": {"ticket": ticket["number"], "clock": clock, "level": 1,
                                            "queue": ticket["queue"], "due_at": reminder.due_at.isoformat()}})


class FirstQueueRouter:
    """Sends every conversation to one queue, or to the queue its category maps to."""

    def __init__(self, default: str = "general", by_category: dict[str, str] | None = None) -> None:
        self.default = default
        self.by_category = by_category or {}

    def queue_for(self, attributes: dict[str, Any]) -> str:
        category = attributes.get("category") or ""
        for prefix, queue in self.by_category.items():
            if category.startswith(prefix):
                return queue
        return self.default
