"""The outbox of the informing service: every outbound message to a client is a row here, stored before
it is acknowledged, and every step it takes is an event row (queued, held, submitting, sent, delivered,
read, failed, fell back, refused, undeliverable).

Senders claim due rows of their shard with a lease (a token and an expiry): a sender that dies leaves
its rows to be claimed again once the lease runs out, and a step is recorded only by the holder of the
current lease, so a message never goes two ways at once.  A row claimed again in ``submitting`` is sent
again under the same dedupe key, which the channel turns into its own idempotency (an e-mail's
Message-ID).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from crm_core import driver_sql
from crm_core.driver_sql import Jsonb, Source
from crm_core.message_templates import newest_template
from routing.informing.templates import TemplateError, TemplateProblem, coerce_values

log = logging.getLogger(__name__)

Origin = Literal["trigger", "operator", "campaign"]
ORIGINS = ("trigger", "operator", "campaign")
OutboxState = Literal["queued", "held", "submitting", "sent", "delivered", "read", "failed", "fell_back",
                      "refused", "undeliverable"]
CLAIMABLE = ("queued", "held", "submitting")
# A receipt moves a message forward only: delivered after sent, read after delivered, never back.
_RECEIPT_RANK = {"submitting": 0, "sent": 1, "failed": 2, "delivered": 2, "read": 3}


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A logical message to a client, before a channel is chosen."""

    client_id: int
    topic: str
    template: str
    variables: dict[str, Any]
    origin: Origin
    dedupe_key: str
    priority: int = 5
    language: str = "uk"
    chain: tuple[str, ...] = ()
    not_before: datetime | None = None  # a trigger's delay: not sent before this


@dataclass(frozen=True, slots=True)
class Queued:
    message_id: int
    created: bool


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """An outbox row a sender holds the lease of (``token``)."""

    id: int
    client_id: int
    topic: str
    template: str
    template_version: int
    language: str
    variables: dict[str, Any]
    priority: int
    origin: str
    chain: tuple[str, ...]
    chain_pos: int
    state: str
    channel: str | None
    attempts: int
    due_at: datetime
    dedupe_key: str
    token: str = field(repr=False)


async def enqueue(conn: Source, message: OutboundMessage, shard: int, chain: tuple[str, ...]) -> Queued:
    """Store ``message`` (once per dedupe key) with the newest version of its template, after checking
    its values against the template; :class:`TemplateError` (nothing stored) when they do not fit."""
    if message.origin not in ORIGINS:
        raise TemplateError((TemplateProblem("bad_origin", "origin", message.origin),))
    if not chain:
        raise TemplateError((TemplateProblem("no_channel_chain", "chain", message.topic),))
    template = await newest_template(conn, message.template, message.language)
    if template is None:
        raise TemplateError((TemplateProblem("unknown_template", "template", f"{message.template}/{message.language}"),))
    coerce_values(template.variables, message.variables)
    row = await driver_sql.fetch_one(conn, """
        WITH inserted AS (
            INSERT INTO outbox_messages (dedupe_key, client_id, topic, template, template_version, language,
                                         variables, priority, origin, chain, shard, due_at)
            VALUES (%(key)s, %(client)s, %(topic)s, %(template)s, %(version)s, %(language)s, %(variables)s,
                    %(priority)s, %(origin)s, %(chain)s, %(shard)s, coalesce(%(due)s, now()))
            ON CONFLICT (dedupe_key) DO NOTHING
            RETURNING id
        ), event AS (
            INSERT INTO outbox_events (message_id, state) SELECT id, 'queued' FROM inserted
        )
        SELECT id, true AS created FROM inserted
        UNION ALL SELECT id, false FROM outbox_messages
        WHERE dedupe_key = %(key)s AND NOT EXISTS (SELECT 1 FROM inserted)
        """, {"key": message.dedupe_key, "client": message.client_id, "topic": message.topic,
              "template": message.template, "version": template.version, "language": message.language,
              "variables": Jsonb(message.variables), "priority": message.priority, "origin": message.origin,
              "chain": Jsonb(list(chain)), "shard": shard, "due": message.not_before})
    assert row is not None
    return Queued(int(row["id"]), bool(row["created"]))


async def claim(conn: Source, shard: int, limit: int, lease_s: float) -> list[ClaimedMessage]:
    """Take the lease of up to ``limit`` due messages of ``shard`` (first by priority, then due time)."""
    token = str(uuid.uuid4())
    rows = await driver_sql.fetch_all(conn, """
        UPDATE outbox_messages o SET lease_token = %(token)s,
               lease_until = now() + make_interval(secs => %(lease)s), attempts = o.attempts + 1
        FROM (SELECT id FROM outbox_messages
              WHERE shard = %(shard)s AND state IN ('queued', 'held', 'submitting') AND due_at <= now()
                AND (lease_until IS NULL OR lease_until < now())
              ORDER BY priority, due_at, id LIMIT %(limit)s FOR UPDATE SKIP LOCKED) due
        WHERE o.id = due.id
        RETURNING o.*
        """, {"token": token, "lease": lease_s, "shard": shard, "limit": limit})
    return sorted((ClaimedMessage(
        id=r["id"], client_id=r["client_id"], topic=r["topic"], template=r["template"],
        template_version=r["template_version"], language=r["language"], variables=r["variables"],
        priority=r["priority"], origin=r["origin"], chain=tuple(r["chain"]), chain_pos=r["chain_pos"],
        state=r["state"], channel=r["channel"], attempts=r["attempts"], due_at=r["due_at"],
        dedupe_key=r["dedupe_key"], token=token) for r in rows), key=lambda m: (m.priority, m.due_at, m.id))


async def record_step(conn: Source, message: ClaimedMessage, state: OutboxState, *, channel: str | None = None,
                      reason: str | None = None, external_id: str | None = None, chain_pos: int | None = None,
                      due_at: datetime | None = None, keep_lease: bool = False) -> bool:
    """Move a claimed message to ``state`` and record the event; False (nothing written) when the lease
    is no longer this sender's.  The lease is given up unless ``keep_lease``."""
    row = await driver_sql.fetch_one(conn, """
        WITH moved AS (
            UPDATE outbox_messages SET state = %(state)s, channel = coalesce(%(channel)s, channel),
                   reason = %(reason)s, external_id = coalesce(%(external)s, external_id),
                   chain_pos = coalesce(%(pos)s, chain_pos), due_at = coalesce(%(due)s, due_at),
                   lease_token = CASE WHEN %(keep)s THEN lease_token END,
                   lease_until = CASE WHEN %(keep)s THEN lease_until END, updated_at = now()
            WHERE id = %(id)s AND lease_token = %(token)s
            RETURNING id
        )
        INSERT INTO outbox_events (message_id, state, channel, reason)
        SELECT id, %(state)s, %(channel)s, %(reason)s FROM moved RETURNING id
        """, {"state": state, "channel": channel, "reason": reason, "external": external_id, "pos": chain_pos,
              "due": due_at, "keep": keep_lease, "id": message.id, "token": message.token})
    return row is not None


DeliveryOutcome = Literal["recorded", "repeated", "unknown"]


async def record_delivery(conn: Source, channel: str, external_id: str, state: str, reason: str | None,
                          occurred_at: datetime) -> DeliveryOutcome:
    """A channel's later report on a message it accepted.  A report for an id no message carries is
    ``unknown``; one that does not move the message forward (a repeat, delivered after read) is
    ``repeated`` and changes nothing."""
    ranks = [s for s, rank in _RECEIPT_RANK.items() if rank < _RECEIPT_RANK[state]]
    row = await driver_sql.fetch_one(conn, """
        WITH target AS (
            SELECT id, state FROM outbox_messages WHERE channel = %(channel)s AND external_id = %(external)s
        ), moved AS (
            UPDATE outbox_messages o SET state = %(state)s, reason = %(reason)s, updated_at = now()
            FROM target WHERE o.id = target.id AND target.state = ANY(%(before)s)
            RETURNING o.id
        ), event AS (
            INSERT INTO outbox_events (message_id, state, channel, reason, occurred_at)
            SELECT id, %(state)s, %(channel)s, %(reason)s, %(at)s FROM moved
        )
        SELECT (SELECT count(*) FROM target) AS known, (SELECT count(*) FROM moved) AS moved
        """, {"channel": channel, "external": external_id, "state": state, "reason": reason,
              "before": ranks, "at": occurred_at})
    assert row is not None
    if not row["known"]:
        return "unknown"
    return "recorded" if row["moved"] else "repeated"


async def message_history(conn: Source, message_id: int) -> list[dict[str, Any]]:
    return await driver_sql.fetch_all(
        conn, "SELECT state, channel, reason, occurred_at FROM outbox_events WHERE message_id = %s ORDER BY id",
        (message_id,))


async def message_row(conn: Source, message_id: int) -> dict[str, Any] | None:
    return await driver_sql.fetch_one(
        conn, "SELECT id, client_id, topic, template, template_version, state, channel, external_id, reason,"
              " chain, chain_pos, attempts, origin, dedupe_key FROM outbox_messages WHERE id = %s", (message_id,))


async def client_addresses(conn: Source, client_ids: list[int]) -> dict[int, dict[str, str]]:
    """Each client's primary contact point of each kind (phone, email, viber, telegram)."""
    rows = await driver_sql.fetch_all(conn, """
        SELECT DISTINCT ON (client_id, kind) client_id, kind, value FROM contact_points
        WHERE client_id = ANY(%s) ORDER BY client_id, kind, is_primary DESC, id
        """, (client_ids,))
    found: dict[int, dict[str, str]] = {}
    for r in rows:
        found.setdefault(r["client_id"], {})[r["kind"]] = r["value"]
    return found


async def client_timeline(conn: Source, client_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """Every message sent to the client (with its channel and delivery state) and every message it sent
    or was answered in its conversations (with the agent of that ticket), newest first."""
    return await driver_sql.fetch_all(conn, """
        (SELECT 'outbound' AS direction, o.channel, o.state, o.topic, o.template AS text, o.created_at AS at,
                o.id AS message_id, NULL::integer AS agent_id
         FROM outbox_messages o WHERE o.client_id = %(client)s)
        UNION ALL
        (SELECT m.direction, t.channel, m.delivery_status, NULL, m.text, m.at, NULL, t.agent_id
         FROM messages m JOIN tickets t ON t.id = m.ticket_id
         WHERE t.client_id = %(client)s AND m.direction IN ('in', 'out'))
        ORDER BY at DESC LIMIT %(limit)s
        """, {"client": client_id, "limit": limit})
