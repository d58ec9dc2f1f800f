"""The client card an agent sees when a contact arrives: who the client is, their accounts with balances,
how to reach them, who else is on their accounts, their open and past tickets and the last messages.

The card is one SQL statement: PostgreSQL builds it as one JSON value, so it costs one round trip and
one statement's client CPU.  Every part of it is an indexed subquery (clients and accounts by primary
key, account roles by client and by account, contact points by client, tickets by
``(client_id, created_at)``, messages by ``(conversation_id, at)``), each capped, so the card of an
organisation with thousands of accounts costs the same as anyone's.  The result is plain JSON:
timestamps as ISO 8601 text (as ``datetime.isoformat()`` writes them), money as decimal text.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from crm_core import driver_sql as sql

ACCOUNTS_ON_CARD = 100
RELATED_CONTACTS_ON_CARD = 50
CONVERSATIONS_ON_CARD = 50
CLOSED_STATUSES = ["resolved", "closed"]
MESSAGE_PREVIEW_CHARS = 500

_TIMESTAMPS = {"created_at", "balance_as_of", "first_response_due", "resolution_due", "first_response_at",
               "resolved_at", "closed_at", "at"}
_MONEY = {"balance"}


# A timestamp as ``datetime.isoformat()`` writes it: no fraction when it is zero, the offset of the session's
# time zone, with its seconds when it has some (a local mean time, before the zone took a standard time).
_ISO = ("""replace(to_char({0}, 'YYYY-MM-DD"T"HH24:MI:SS.USTZH:TZM'), '.000000', '')"""
        " || CASE WHEN mod(abs(extract(timezone FROM {0})::int), 60) = 0 THEN ''"
        " ELSE ':' || lpad((mod(abs(extract(timezone FROM {0})::int), 60))::text, 2, '0') END")


def _object(alias: str, *fields: str | tuple[str, str]) -> str:
    """``json_build_object`` of ``fields``: a column of ``alias`` under its own name (a timestamp as ISO 8601
    text, money as decimal text), or a ``(name, SQL)`` pair taken as it is."""
    pairs = []
    for field in fields:
        name, value = field if isinstance(field, tuple) else (field, f"{alias}.{field}")
        if field in _TIMESTAMPS:
            value = _ISO.format(value)
        elif field in _MONEY:
            value += "::text"
        pairs.append(f"'{name}', {value}")
    return f"json_build_object({', '.join(pairs)})"


_CLOSED = ", ".join(f"'{status}'" for status in CLOSED_STATUSES)
_TICKET = _object("t", "id", "number", "channel", "status", "priority", "type", "category", "subject",
                  "queue", "agent_id", "account_id", "created_at", "first_response_due", "resolution_due",
                  "first_response_at", "resolved_at", "closed_at")


def _tickets(closed: bool) -> str:
    """The client's latest closed (or open) tickets, newest first."""
    status = f"status {'IN' if closed else 'NOT IN'} ({_CLOSED})"
    return (f"(SELECT coalesce(json_agg({_TICKET} ORDER BY t.created_at DESC, t.id DESC), '[]')"
            f" FROM (SELECT * FROM tickets WHERE client_id = c.id AND {status}"
            " ORDER BY created_at DESC, id DESC LIMIT %s) t)")


# Billing's detail of an account (charges, payments, equipment, meters) with the time it was fetched, or null.
_BILLING = ("(SELECT b.detail || jsonb_build_object('fetched_at', " + _ISO.format("b.fetched_at") + ")"
            " FROM account_billing b WHERE b.account_id = a.id AND b.detail IS NOT NULL)")


# The client's first accounts (``card_accounts``) are listed on the card, and the others on those accounts
# are its related contacts.  Parameters, in order: tickets_limit (open), tickets_limit (past),
# messages_limit (of each conversation), messages_limit (in all), client_id.
_CARD = f"""
SELECT json_build_object(
  'client', {_object("c", "id", "kind", "full_name", "segment", "language", "created_at", "version", "active", "merged_into")},
  'contact_points', (
    SELECT coalesce(json_agg({_object("p", "id", "kind", "value", "is_primary")}
                             ORDER BY p.is_primary DESC, p.kind, p.id), '[]')
    FROM contact_points p WHERE p.client_id = c.id),
  'accounts', coalesce(card_accounts.list, '[]'),
  'accounts_total', (SELECT count(DISTINCT account_id) FROM account_roles WHERE client_id = c.id),
  'related_contacts', (
    SELECT coalesce(json_agg({_object("o", ("client_id", "o.id"), "full_name", "kind",
                                      ("roles", "related.roles"), ("phones", "related_phones.list"))}
                             ORDER BY o.id), '[]')
    FROM (SELECT r.client_id,
                 json_agg({_object("r", "account_id", ("account_no", "a.account_no"), "role")}
                          ORDER BY a.account_no, r.role) AS roles
          FROM account_roles r JOIN accounts a ON a.id = r.account_id
          WHERE r.account_id = ANY(card_accounts.ids) AND r.client_id <> c.id
          GROUP BY r.client_id ORDER BY r.client_id LIMIT {RELATED_CONTACTS_ON_CARD}) related
    JOIN clients o ON o.id = related.client_id
    CROSS JOIN LATERAL (
      SELECT coalesce(json_agg(p.value ORDER BY p.is_primary DESC, p.id), '[]') AS list
      FROM contact_points p WHERE p.client_id = o.id AND p.kind = 'phone') related_phones),
  'open_tickets', {_tickets(closed=False)},
  'past_tickets', {_tickets(closed=True)},
  'last_messages', (
    SELECT coalesce(json_agg({_object("m", "id", "conversation_id", "ticket_id", ("channel", "conv.channel"),
                                      "direction", "author",
                                      ("text", f"left(m.text, {MESSAGE_PREVIEW_CHARS})"),
                                      "delivery_status", "at")}
                             ORDER BY m.at DESC, m.id DESC), '[]')
    FROM (SELECT m.* FROM (SELECT conversation_id FROM tickets WHERE client_id = c.id
                           ORDER BY created_at DESC LIMIT {CONVERSATIONS_ON_CARD}) recent
          JOIN LATERAL (SELECT * FROM messages WHERE conversation_id = recent.conversation_id
                        ORDER BY at DESC, id DESC LIMIT %s) m ON true
          ORDER BY m.at DESC, m.id DESC LIMIT %s) m
    LEFT JOIN conversations conv ON conv.id = m.conversation_id)
)::text
FROM clients c
CROSS JOIN LATERAL (
  SELECT json_agg({_object("a", "id", "account_no", "eic_code", "service_address", "tariff", "balance",
                           "balance_as_of", "roles", ("billing", _BILLING))} ORDER BY a.account_no) AS list,
         array_agg(a.id) AS ids
  FROM (SELECT a.id, a.account_no, a.eic_code, a.service_address, coalesce(b.tariff, a.tariff) AS tariff,
               coalesce(b.balance, a.balance) AS balance, coalesce(b.as_of, a.balance_as_of) AS balance_as_of,
               array_agg(r.role) AS roles
        FROM account_roles r JOIN accounts a ON a.id = r.account_id
        LEFT JOIN account_billing b ON b.account_id = a.id
        WHERE r.client_id = c.id
        GROUP BY a.id, b.account_id ORDER BY a.account_no LIMIT {ACCOUNTS_ON_CARD}) a) card_accounts
WHERE c.id = %s
"""


async def client_card(conn: sql.Source, client_id: int, *, tickets_limit: int = 20,
                      messages_limit: int = 20) -> dict[str, Any] | None:
    """The card of client ``client_id`` as a JSON-able dict, or ``None`` when there is no such client."""
    card = await sql.fetch_value(conn, _CARD, (tickets_limit, tickets_limit, messages_limit, messages_limit,
                                               client_id))
    if card is None:
        return None
    parsed = json.loads(card)
    parsed["dashboard"] = dashboard(parsed)
    return parsed


def dashboard(card: dict[str, Any]) -> dict[str, Any]:
    """The client at a glance (CM-08): payments (count, sum, last) from billing's detail of the card's
    accounts, the debt (what the accounts in debit owe) and the overpayment, and the open tickets."""
    payments = [p for account in card["accounts"] for p in (account.get("billing") or {}).get("payments", [])
                if isinstance(p, dict) and p.get("amount") is not None]
    balances = [Decimal(account["balance"]) for account in card["accounts"]]
    last = max(payments, key=lambda p: str(p.get("paid_at") or ""), default=None)
    return {"payments_count": len(payments), "payments_sum": str(sum((Decimal(str(p["amount"])) for p in payments),
                                                                     Decimal("0.00"))),
            "last_payment": last, "debt": str(-sum((b for b in balances if b < 0), Decimal("0.00"))),
            "overpayment": str(sum((b for b in balances if b > 0), Decimal("0.00"))),
            "open_tickets": len(card["open_tickets"])}
