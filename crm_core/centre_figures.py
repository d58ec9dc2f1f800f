"""Counts of the contact centre since an instant, for ``/metrics``: tickets created by channel, SLA
breaches and escalations (ticket events), and the inbox backlog (items stored, not yet processed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.models import InboxItem, Ticket, TicketEvent


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
