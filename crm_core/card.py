"""The client card an agent sees when a contact arrives: who the client is, their accounts with balances,
how to reach them, who else is on their accounts, their open and past tickets and the last messages.

Every part is one indexed query (clients and accounts by primary key, account roles by client and by
account, tickets by ``(client_id, created_at)``, messages by ``(conversation_id, at)``), each capped, so
the card of an organisation with thousands of accounts costs the same as anyone's.  The result is plain
JSON: timestamps as ISO 8601 text, money as decimal text.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.models import Account, AccountRole, Client, ContactPoint, Conversation, Message, Ticket

ACCOUNTS_ON_CARD = 100
RELATED_CONTACTS_ON_CARD = 50
CONVERSATIONS_ON_CARD = 50
CLOSED_STATUSES = ("resolved", "closed")

_clients = Client.__table__
_accounts = Account.__table__
_roles = AccountRole.__table__
_points = ContactPoint.__table__
_tickets = Ticket.__table__
_messages = Message.__table__
_conversations = Conversation.__table__

_TICKET_COLUMNS = (
    _tickets.c.id, _tickets.c.number, _tickets.c.channel, _tickets.c.status, _tickets.c.priority,
    _tickets.c.type, _tickets.c.category, _tickets.c.subject, _tickets.c.queue, _tickets.c.agent_id,
    _tickets.c.account_id, _tickets.c.created_at, _tickets.c.first_response_due, _tickets.c.resolution_due,
    _tickets.c.first_response_at, _tickets.c.resolved_at, _tickets.c.closed_at,
)
MESSAGE_PREVIEW_CHARS = 500


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _as_dict(row: Any) -> dict[str, Any]:
    return {key: _json_value(value) for key, value in row._mapping.items()}


async def client_card(conn: AsyncConnection, client_id: int, *, tickets_limit: int = 20,
                      messages_limit: int = 20) -> dict[str, Any] | None:
    """The card of client ``client_id`` as a JSON-able dict, or ``None`` when there is no such client."""
    client_row = (await conn.execute(
        select(_clients.c.id, _clients.c.kind, _clients.c.full_name, _clients.c.segment, _clients.c.language,
               _clients.c.created_at).where(_clients.c.id == client_id))).first()
    if client_row is None:
        return None
    accounts = await _accounts_of(conn, client_id)
    account_ids = [account["id"] for account in accounts]
    return {
        "client": _as_dict(client_row),
        "contact_points": await _contact_points_of(conn, client_id),
        "accounts": accounts,
        "accounts_total": await _accounts_total(conn, client_id),
        "related_contacts": await _related_contacts(conn, client_id, account_ids),
        "open_tickets": await _tickets_of(conn, client_id, tickets_limit, open_ones=True),
        "past_tickets": await _tickets_of(conn, client_id, tickets_limit, open_ones=False),
        "last_messages": await _last_messages(conn, client_id, messages_limit),
    }


async def _contact_points_of(conn: AsyncConnection, client_id: int) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(_points.c.kind, _points.c.value, _points.c.is_primary)
        .where(_points.c.client_id == client_id)
        .order_by(_points.c.is_primary.desc(), _points.c.kind, _points.c.id))
    return [_as_dict(row) for row in rows]


async def _accounts_of(conn: AsyncConnection, client_id: int) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(_accounts.c.id, _accounts.c.account_no, _accounts.c.eic_code, _accounts.c.service_address,
               _accounts.c.tariff, _accounts.c.balance, _accounts.c.balance_as_of,
               func.array_agg(_roles.c.role).label("roles"))
        .select_from(_roles.join(_accounts, _accounts.c.id == _roles.c.account_id))
        .where(_roles.c.client_id == client_id)
        .group_by(_accounts.c.id)
        .order_by(_accounts.c.account_no)
        .limit(ACCOUNTS_ON_CARD))
    return [_as_dict(row) for row in rows]


async def _accounts_total(conn: AsyncConnection, client_id: int) -> int:
    total = await conn.scalar(select(func.count(func.distinct(_roles.c.account_id)))
                              .where(_roles.c.client_id == client_id))
    return int(total or 0)


async def _related_contacts(conn: AsyncConnection, client_id: int,
                            account_ids: list[int]) -> list[dict[str, Any]]:
    """The other clients on the same accounts (co-owners, contact persons, the owner) and their phones."""
    if not account_ids:
        return []
    rows = (await conn.execute(
        select(_roles.c.client_id, _clients.c.full_name, _clients.c.kind, _roles.c.account_id,
               _accounts.c.account_no, _roles.c.role)
        .select_from(_roles.join(_clients, _clients.c.id == _roles.c.client_id)
                     .join(_accounts, _accounts.c.id == _roles.c.account_id))
        .where(_roles.c.account_id.in_(account_ids), _roles.c.client_id != client_id)
        .order_by(_roles.c.client_id, _accounts.c.account_no, _roles.c.role))).all()
    related: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row.client_id not in related:
            if len(related) == RELATED_CONTACTS_ON_CARD:
                continue
            related[row.client_id] = {"client_id": row.client_id, "full_name": row.full_name,
                                      "kind": row.kind, "roles": [], "phones": []}
        related[row.client_id]["roles"].append(
            {"account_id": row.account_id, "account_no": row.account_no, "role": row.role})
    if related:
        phones = await conn.execute(
            select(_points.c.client_id, _points.c.value)
            .where(_points.c.client_id.in_(list(related)), _points.c.kind == "phone")
            .order_by(_points.c.client_id, _points.c.is_primary.desc(), _points.c.id))
        for owner_id, value in phones:
            related[owner_id]["phones"].append(value)
    return list(related.values())


async def _tickets_of(conn: AsyncConnection, client_id: int, limit: int, *,
                      open_ones: bool) -> list[dict[str, Any]]:
    status_filter = (_tickets.c.status.not_in(CLOSED_STATUSES) if open_ones
                     else _tickets.c.status.in_(CLOSED_STATUSES))
    rows = await conn.execute(
        select(*_TICKET_COLUMNS).where(_tickets.c.client_id == client_id, status_filter)
        .order_by(_tickets.c.created_at.desc(), _tickets.c.id.desc()).limit(limit))
    return [_as_dict(row) for row in rows]


async def _last_messages(conn: AsyncConnection, client_id: int, limit: int) -> list[dict[str, Any]]:
    """The latest messages of the client's conversations, whichever channel they came by: the last
    ``limit`` of each of the client's latest conversations (by ``(conversation_id, at)``), merged, so the
    query never scans the messages table however many there are."""
    conversations = (select(_tickets.c.conversation_id).where(_tickets.c.client_id == client_id)
                     .order_by(_tickets.c.created_at.desc()).limit(CONVERSATIONS_ON_CARD).subquery("recent"))
    latest = (select(_messages.c.id, _messages.c.conversation_id, _messages.c.ticket_id, _messages.c.direction,
                     _messages.c.author, _messages.c.text, _messages.c.delivery_status, _messages.c.at)
              .where(_messages.c.conversation_id == conversations.c.conversation_id)
              .order_by(_messages.c.at.desc(), _messages.c.id.desc()).limit(limit).lateral("latest"))
    rows = await conn.execute(
        select(latest.c.id, latest.c.conversation_id, latest.c.ticket_id, _conversations.c.channel,
               latest.c.direction, latest.c.author, func.left(latest.c.text, MESSAGE_PREVIEW_CHARS).label("text"),
               latest.c.delivery_status, latest.c.at)
        .select_from(conversations.join(latest, true())
                     .outerjoin(_conversations, _conversations.c.id == latest.c.conversation_id))
        .order_by(latest.c.at.desc(), latest.c.id.desc()).limit(limit))
    return [_as_dict(row) for row in rows]
