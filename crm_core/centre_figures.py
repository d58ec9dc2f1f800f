"""Counts of the contact centre since an instant: for ``/metrics``, tickets created by channel, SLA
breaches and escalations (ticket events), and the inbox backlog (items stored, not yet processed); for the
demo's progress lines, tickets opened, resolved and identified per channel; the accounts the base holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.models import Account, InboxItem, Ticket, TicketEvent


@dataclass(frozen=True, slots=True)
class CentreFigures:
    tickets_by_channel: dict[str, int]
    sla_breaches: int
    escalations: int
    inbox_backlog: int


async def centre_figures(conn: AsyncConnection, since: datetime) -> CentreFigures:
    channels = (await conn.execute(select(Ticket.channel, func.count()).where(Ticket.created_at >= since)
                                   .group_by(Ticket.channel))).all()
    events = dict((await conn.execute(
        select(TicketEvent.kind, func.count())
        .where(TicketEvent.at >= since, TicketEvent.kind.in_(("sla_breached", "escalated")))
        .group_by(TicketEvent.kind))).all())
    backlog = (await conn.execute(select(func.count()).select_from(InboxItem)
                                  .where(InboxItem.processed_at.is_(None)))).scalar_one()
    return CentreFigures({channel: count for channel, count in channels}, events.get("sla_breached", 0),
                         events.get("escalated", 0), backlog)


@dataclass(frozen=True, slots=True)
class ChannelTally:
    opened: int
    resolved: int
    identified: int


async def channel_tally(conn: AsyncConnection, since: datetime) -> dict[str, ChannelTally]:
    """Per channel: tickets opened since ``since``, how many of them are resolved (or closed), and how
    many have their client identified."""
    rows = (await conn.execute(
        select(Ticket.channel, func.count(),
               func.count().filter(Ticket.resolved_at.is_not(None) | Ticket.status.in_(("resolved", "closed"))),
               func.count().filter(Ticket.identified))
        .where(Ticket.created_at >= since).group_by(Ticket.channel).order_by(Ticket.channel))).all()
    return {row[0]: ChannelTally(int(row[1]), int(row[2]), int(row[3])) for row in rows}


async def accounts_held(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).select_from(Account))).scalar_one())

