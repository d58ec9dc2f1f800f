"""Which tickets a user may read: every ticket with ``tickets.read``, else only those assigned to them
(``tickets.read_own``), wherever a ticket is shown — the ticket list and pages, the client card's
tickets and their messages, the client's timeline."""

from __future__ import annotations

from typing import Any

from dashboards.context import Principal

CARD_TICKETS = ("open_tickets", "past_tickets")


def reads_all(who: Principal) -> bool:
    return who.role.can("tickets.read")


def may_read(who: Principal, ticket: dict[str, Any]) -> bool:
    return reads_all(who) or ticket.get("agent_id") == who.id


def card_for(who: Principal, card: dict[str, Any] | None) -> dict[str, Any] | None:
    """The client card with only the tickets ``who`` may read, and only those tickets' messages."""
    if card is None or reads_all(who):
        return card
    kept = {name: [t for t in card.get(name) or [] if may_read(who, t)] for name in CARD_TICKETS}
    ids = {t.get("id") for tickets in kept.values() for t in tickets}
    limited = {**card, **kept,
               "last_messages": [m for m in card.get("last_messages") or [] if m.get("ticket_id") in ids]}
    if isinstance(card.get("dashboard"), dict):
        limited["dashboard"] = {**card["dashboard"], "open_tickets": len(kept["open_tickets"])}
    return limited


def timeline_for(who: Principal, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A client's timeline with only the messages of tickets ``who`` may read (and every informing message)."""
    if reads_all(who):
        return items
    return [item for item in items if item.get("direction") == "outbound" or may_read(who, item)]


def view_for(who: Principal, view: dict[str, Any]) -> dict[str, Any]:
    """A conversation view (thread, ticket, card) with its card limited as ``card_for`` says."""
    return {**view, "card": card_for(who, view.get("card"))} if isinstance(view, dict) and "card" in view else view
