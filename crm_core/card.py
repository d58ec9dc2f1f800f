"""The client card an agent sees when a contact arrives: who the client is, their accounts with balances,
how to reach them, who else is on their accounts, their open and past tickets and the last messages.

Every part is one indexed query (clients and accounts by primary key, account roles by client and by
account, tickets by ``(client_id, created_at)``, messages by ``(conversation_id, at)``), each capped, so
the card of an organisation with thousands of accounts costs the same as anyone's.  The result is plain
JSON: timestamps as ISO 8601 text, money as decimal text.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from typing import Any

from crm_core import driver_sql as sql

ACCOUNTS_ON_CARD = 100
RELATED_CONTACTS_ON_CARD = 50
CONVERSATIONS_ON_CARD = 50
CLOSED_STATUSES = ["resolved", "closed"]
MESSAGE_PREVIEW_CHARS = 500

_TICKET_COLUMNS = ("id, number, channel, status, priority, type, category, subject, queue, agent_id, account_id,"
                   " created_at, first_response_due, resolution_due, first_response_at, resolved_at, closed_at")


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    return value


def _as_dict(row: dict[str, Any]) -> dict[str, Any]:
    return {key: _json_value(value) for key, value in row.items()}


async def client_card(conn: sql.Source, client_id: int, *, tickets_limit: int = 20,
                      messages_limit: int = 20) -> dict[str, Any] | None:
    """The card of client ``client_id`` as a JSON-able dict, or ``None`` when there is no such client.

    The parts are asked for together: from an :class:`~crm_core.driver_sql.AutocommitPool` they run
    side by side on its connections (the card costs about two round trips, not nine); on one
    connection they take turns."""
    client_row, accounts = await asyncio.gather(
        sql.fetch_one(conn, "SELECT id, kind, full_name, segment, language, created_at FROM clients WHERE id = %s",
                      (client_id,)),
        _accounts_of(conn, client_id))
    if client_row is None:
        return None
    account_ids = [account["id"] for account in accounts]
    contact_points, accounts_total, related, open_tickets, past_tickets, last_messages = await asyncio.gather(
        _contact_points_of(conn, client_id), _accounts_total(conn, client_id),
        _related_contacts(conn, client_id, account_ids),
        _tickets_of(conn, client_id, tickets_limit, open_ones=True),
        _tickets_of(conn, client_id, tickets_limit, open_ones=False),
        _last_messages(conn, client_id, messages_limit))
    return {"client": _as_dict(client_row), "contact_points": contact_points, "accounts": accounts,
            "accounts_total": accounts_total, "related_contacts": related, "open_tickets": open_tickets,
            "past_tickets": past_tickets, "last_messages": last_messages}


async def _contact_points_of(conn: sql.Source, client_id: int) -> list[dict[str, Any]]:
    rows = await sql.fetch_all(conn, "SELECT kind, value, is_primary FROM contact_points WHERE client_id = %s"
                                     " ORDER BY is_primary DESC, kind, id", (client_id,))
    return [_as_dict(row) for row in rows]


async def _accounts_of(conn: sql.Source, client_id: int) -> list[dict[str, Any]]:
    rows = await sql.fetch_all(conn, (
        "SELECT a.id, a.account_no, a.eic_code, a.service_address, a.tariff, a.balance, a.balance_as_of,"
        " array_agg(r.role) AS roles FROM account_roles r JOIN accounts a ON a.id = r.account_id"
        " WHERE r.client_id = %s GROUP BY a.id ORDER BY a.account_no LIMIT %s"), (client_id, ACCOUNTS_ON_CARD))
    return [_as_dict(row) for row in rows]


async def _accounts_total(conn: sql.Source, client_id: int) -> int:
    total = await sql.fetch_value(conn, "SELECT count(DISTINCT account_id) FROM account_roles WHERE client_id = %s",
                                  (client_id,))
    return int(total or 0)


async def _related_contacts(conn: sql.Source, client_id: int,
                            account_ids: list[int]) -> list[dict[str, Any]]:
    """The other clients on the same accounts (co-owners, contact persons, the owner) and their phones."""
    if not account_ids:
        return []
    rows = await sql.fetch_all(conn, (
        "SELECT r.client_id, c.full_name, c.kind, r.account_id, a.account_no, r.role"
        " FROM account_roles r JOIN clients c ON c.id = r.client_id JOIN accounts a ON a.id = r.account_id"
        " WHERE r.account_id = ANY(%s) AND r.client_id <> %s ORDER BY r.client_id, a.account_no, r.role"),
        (account_ids, client_id))
    related: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row["client_id"] not in related:
            if len(related) == RELATED_CONTACTS_ON_CARD:
                continue
            related[row["client_id"]] = {"client_id": row["client_id"], "full_name": row["full_name"],
                                         "kind": row["kind"], "roles": [], "phones": []}
        related[row["client_id"]]["roles"].append(
            {"account_id": row["account_id"], "account_no": row["account_no"], "role": row["role"]})
    if related:
        phones = await sql.fetch_all(conn, (
            "SELECT client_id, value FROM contact_points WHERE client_id = ANY(%s) AND kind = 'phone'"
            " ORDER BY client_id, is_primary DESC, id"), (list(related),))
        for phone in phones:
            related[phone["client_id"]]["phones"].append(phone["value"])
    return list(related.values())


async def _tickets_of(conn: sql.Source, client_id: int, limit: int, *,
                      open_ones: bool) -> list[dict[str, Any]]:
    status_filter = "NOT (status = ANY(%s))" if open_ones else "status = ANY(%s)"
    rows = await sql.fetch_all(conn, f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE client_id = %s AND {status_filter}"
                                     " ORDER BY created_at DESC, id DESC LIMIT %s", (client_id, CLOSED_STATUSES, limit))
    return [_as_dict(row) for row in rows]


async def _last_messages(conn: sql.Source, client_id: int, limit: int) -> list[dict[str, Any]]:
    """The latest messages of the client's conversations, whichever channel they came by: the last
    ``limit`` of each of the client's latest conversations (by ``(conversation_id, at)``), merged, so the
    query never scans the messages table however many there are."""
    rows = await sql.fetch_all(conn, (
        "SELECT m.id, m.conversation_id, m.ticket_id, c.channel, m.direction, m.author, left(m.text, %s) AS text,"
        " m.delivery_status, m.at"
        " FROM (SELECT conversation_id FROM tickets WHERE client_id = %s ORDER BY created_at DESC LIMIT %s) recent"
        " JOIN LATERAL (SELECT id, conversation_id, ticket_id, direction, author, text, delivery_status, at"
        " FROM messages WHERE conversation_id = recent.conversation_id ORDER BY at DESC, id DESC LIMIT %s) m ON true"
        " LEFT JOIN conversations c ON c.id = m.conversation_id ORDER BY m.at DESC, m.id DESC LIMIT %s"),
        (MESSAGE_PREVIEW_CHARS, client_id, CONVERSATIONS_ON_CARD, limit, limit))
    return [_as_dict(row) for row in rows]
