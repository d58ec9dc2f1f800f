"""How a conversation shows itself: the JSON the desktop reads and the events the live wall follows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

TICKET_SUMMARY_FIELDS = ("number", "channel", "status", "category", "type", "priority", "queue", "agent_id",
                         "client_id", "identified", "first_response_due", "resolution_due", "created_at")


def plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def public(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return {k: plain(v) for k, v in row.items()} if row is not None else None


PREVIEW_CHARS = 160


def offer_preview(subject: str | None, text: str | None) -> str:
    """The start of a contact's first message as the offer card shows it (subject first for e-mail)."""
    words = " — ".join(part.strip() for part in (subject, text) if part and part.strip())
    flat = " ".join(words.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[:PREVIEW_CHARS - 1].rstrip() + "…"


def ticket_summary(ticket: dict[str, Any]) -> dict[str, Any]:
    return {k: plain(ticket.get(k)) for k in TICKET_SUMMARY_FIELDS}


def conversation_event(thread_key: str, row: dict[str, Any], ticket: dict[str, Any] | None) -> dict[str, Any]:
    state = {"thread_key": thread_key, "channel": row["channel"], "queue": row["queue"],
             "routing": row["routing_state"], "agent_id": row["agent_id"],
             "ticket": ticket and ticket_summary(ticket)}
    return {"type": "conversation", "id": thread_key, "conversation_id": row["id"], "agent_id": row["agent_id"],
            "state": state,
            "removed": row["status"] == "closed"}


def message_event(thread_key: str, row: dict[str, Any], ticket: dict[str, Any] | None, text: str,
                  direction: str) -> dict[str, Any]:
    return {"type": "message", "id": thread_key, "conversation_id": row["id"], "agent_id": row["agent_id"],
            "state": {"direction": direction, "text": text, "ticket": ticket and ticket["number"]}}


def address_kind(channel: str) -> str:
    return {"voice": "phone", "email": "email", "telegram": "telegram", "viber": "viber"}.get(channel, "web")
