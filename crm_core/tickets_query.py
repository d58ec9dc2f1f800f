"""The read side of tickets: the filtered list (keyset-paged), one ticket with its links, its history,
and a server-side cursor over every matching ticket for exports.

Filters arrive validated (known statuses, channels and so on); this module only builds the SQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.models import Client, Message, Ticket, TicketEvent, TicketLink, User
from crm_core.ticket_search import ticket_text_condition

CLOSED_STATUSES = ("resolved", "closed")
SLA_STATES = ("breached", "at_risk", "ok")

LIST_COLUMNS = (Ticket.id, Ticket.number, Ticket.channel, Ticket.created_at, Ticket.client_id, Ticket.account_id,
                Ticket.identified, Ticket.sender, Ticket.subject, Ticket.category, Ticket.type, Ticket.priority,
                Ticket.status, Ticket.queue, Ticket.agent_id, Ticket.sla_policy, Ticket.first_response_due,
                Ticket.resolution_due, Ticket.first_response_at, Ticket.resolved_at, Ticket.closed_at,
                Ticket.updated_at)
EXPORT_COLUMNS = tuple(c.key for c in LIST_COLUMNS)


@dataclass(frozen=True, slots=True)
class TicketFilter:
    """Which tickets to list; every field is optional and they combine with AND."""

    statuses: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # a category matches itself and everything under it in the tree
    types: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    agent_ids: tuple[int, ...] = ()
    client_id: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    open_only: bool = False
    sla: str | None = None  # breached | at_risk | ok
    at_risk_within: timedelta = timedelta(minutes=30)
    text: str | None = None  # a ticket number, a client's name, a phone or an account number


def sla_breached(now: Any) -> ColumnElement[bool]:
    return or_(
        and_(Ticket.first_response_due.is_not(None),
             func.coalesce(Ticket.first_response_at, now) > Ticket.first_response_due),
        and_(Ticket.resolution_due.is_not(None),
             func.coalesce(Ticket.resolved_at, now) > Ticket.resolution_due),
    )


def _sla_condition(state: str, within: timedelta) -> ColumnElement[bool]:
    now = func.now()
    breached = sla_breached(now)
    if state == "breached":
        return breached
    soon = now + literal(within)
    at_risk = and_(~breached, Ticket.status.not_in(CLOSED_STATUSES), or_(
        and_(Ticket.first_response_at.is_(None), Ticket.first_response_due <= soon),
        and_(Ticket.resolved_at.is_(None), Ticket.resolution_due <= soon)))
    if state == "at_risk":
        return at_risk
    return and_(~breached, ~func.coalesce(at_risk, False))


def conditions(flt: TicketFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    for column, values in ((Ticket.status, flt.statuses), (Ticket.channel, flt.channels),
                           (Ticket.type, flt.types), (Ticket.priority, flt.priorities),
                           (Ticket.queue, flt.queues), (Ticket.agent_id, flt.agent_ids)):
        if values:
            where.append(column.in_(values))
    if flt.categories:
        where.append(or_(*(or_(Ticket.category == c, Ticket.category.like(f"{c}.%")) for c in flt.categories)))
    if flt.client_id is not None:
        where.append(Ticket.client_id == flt.client_id)
    if flt.created_from is not None:
        where.append(Ticket.created_at >= flt.created_from)
    if flt.created_to is not None:
        where.append(Ticket.created_at < flt.created_to)
    if flt.open_only:
        where.append(Ticket.status.not_in(CLOSED_STATUSES))
    if flt.sla:
        where.append(_sla_condition(flt.sla, flt.at_risk_within))
    if flt.text:
        where.append(ticket_text_condition(flt.text))
    return where


def _with_sla_state(row: Any) -> dict[str, Any]:
    ticket = dict(row._mapping)
    ticket["sla_state"] = "breached" if ticket.pop("sla_state_breached") else "ok"
    return ticket


async def list_tickets(conn: AsyncConnection, flt: TicketFilter, limit: int = 50,
                       before_id: int | None = None) -> list[dict[str, Any]]:
    """Newest first, each with its client's and agent's names; pass the last row's id as ``before_id``
    for the next page."""
    statement = (select(*LIST_COLUMNS, Client.full_name.label("client_name"), User.full_name.label("agent_name"),
                        sla_breached(func.now()).label("sla_state_breached"))
                 .outerjoin(Client, Client.id == Ticket.client_id).outerjoin(User, User.id == Ticket.agent_id)
                 .where(*conditions(flt)).order_by(Ticket.id.desc()).limit(limit))
    if before_id is not None:
        statement = statement.where(Ticket.id < before_id)
    return [_with_sla_state(r) for r in (await conn.execute(statement)).all()]


async def count_tickets(conn: AsyncConnection, flt: TicketFilter) -> int:
    return int((await conn.execute(select(func.count()).select_from(Ticket).where(*conditions(flt)))).scalar_one())


async def read_ticket(conn: AsyncConnection, number: str) -> dict[str, Any] | None:
    """One ticket by its number, with the tickets it is linked to (repeat contacts)."""
    row = (await conn.execute(select(*Ticket.__table__.c, sla_breached(func.now()).label("sla_state_breached"))
                              .where(Ticket.number == number))).first()
    if row is None:
        return None
    ticket = _with_sla_state(row)
    links = await conn.execute(
        select(TicketLink.kind, Ticket.number, Ticket.created_at, Ticket.status)
        .join(Ticket, Ticket.id == TicketLink.related_ticket_id).where(TicketLink.ticket_id == ticket["id"])
        .order_by(Ticket.created_at.desc()))
    ticket["links"] = [dict(r._mapping) for r in links.all()]
    return ticket


async def ticket_history(conn: AsyncConnection, ticket_id: int, limit: int = 1_000) -> list[dict[str, Any]]:
    statement = (select(TicketEvent.id, TicketEvent.at, TicketEvent.author, TicketEvent.kind, TicketEvent.data)
                 .where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.at, TicketEvent.id).limit(limit))
    return [dict(r._mapping) for r in (await conn.execute(statement)).all()]


async def ticket_messages(conn: AsyncConnection, ticket: dict[str, Any], limit: int = 2_000) -> list[dict[str, Any]]:
    """The thread of a ticket (a row of :func:`read_ticket`), oldest first: what the client wrote, the
    replies, the bot's answers, notes -- read through its conversation's index."""
    statement = (select(Message.id, Message.at, Message.direction, Message.author, Message.text, Message.attachments,
                        Message.delivery_status)
                 .where(Message.conversation_id == ticket["conversation_id"], Message.ticket_id == ticket["id"])
                 .order_by(Message.at, Message.id).limit(limit))
    return [dict(r._mapping) for r in (await conn.execute(statement)).all()]


async def numbers_of_conversations(conn: AsyncConnection, conversation_ids: list[int]) -> dict[str, str]:
    """The ticket number of each conversation, by its id (the audit log names conversations by id)."""
    statement = (select(Ticket.conversation_id, Ticket.number)
                 .where(Ticket.conversation_id.in_(conversation_ids)).order_by(Ticket.id))
    return {str(row.conversation_id): row.number for row in (await conn.execute(statement)).all()}


async def stream_tickets(conn: AsyncConnection, flt: TicketFilter,
                         batch: int = 5_000) -> AsyncIterator[list[tuple[Any, ...]]]:
    """Every matching ticket, in id order, as batches of row tuples in ``EXPORT_COLUMNS`` order, read
    through a server-side cursor so memory holds one batch at a time."""
    statement = select(*LIST_COLUMNS).where(*conditions(flt)).order_by(Ticket.id)
    result = await conn.stream(statement.execution_options(yield_per=batch))
    async for partition in result.partitions(batch):
        yield [tuple(r) for r in partition]


async def recent_escalations(conn: AsyncConnection, since: datetime, limit: int = 200) -> list[dict[str, Any]]:
    """SLA breaches of tickets still open since ``since``, newest first, each with who acknowledged it
    (an ``escalation.ack`` entry in the audit log) if anyone did."""
    from crm_core.models import AuditEntry

    escalation_id = Ticket.number + literal(":") + TicketEvent.data["clock"].astext
    ack = (select(AuditEntry.actor, AuditEntry.at).where(
        AuditEntry.entity == "escalation", AuditEntry.action == "escalation.ack",
        AuditEntry.entity_id == escalation_id).order_by(AuditEntry.id).limit(1).lateral("ack"))
    statement = (select(escalation_id.label("id"), TicketEvent.at, Ticket.number.label("ticket"),
                        TicketEvent.data["clock"].astext.label("clock"), Ticket.queue, Ticket.agent_id,
                        Ticket.channel, Ticket.category, Ticket.priority, ack.c.actor.label("acknowledged_by"),
                        ack.c.at.label("acknowledged_at"))
                 .join(Ticket, Ticket.id == TicketEvent.ticket_id)
                 .outerjoin(ack, literal(True))
                 .where(TicketEvent.kind == "sla_breached", TicketEvent.at >= since,
                        Ticket.status.not_in(CLOSED_STATUSES))
                 .order_by(TicketEvent.at.desc()).limit(limit))
    return [dict(r._mapping) for r in (await conn.execute(statement)).all()]
