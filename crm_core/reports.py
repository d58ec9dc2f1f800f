"""Report queries over tickets for a period: counts, first response and resolution times, SLA met,
first-contact resolution, handling time, speed of answer, abandonment, agent load, top categories, and
a time series for charts.

Definitions (each over tickets created in the period and matching the filters):

- first response: ``first_response_at - created_at``; resolution: ``resolved_at - created_at``;
- SLA met: tickets with a due time whose first response and resolution came (or are still open) in
  time, over tickets with a due time;
- FCR: resolved tickets that no later ticket of the client links to as a repeat contact, over resolved;
- ASA: the wait in the queue before an agent took the conversation (``assigned`` event's ``waited_s``);
- AHT: from the first assignment to resolution;
- abandonment: tickets closed without ever being assigned to an agent, over all.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, and_, case, cast, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.models import Ticket, TicketEvent, TicketLink
from crm_core.tickets_query import CLOSED_STATUSES, TicketFilter, conditions, sla_breached

BUCKETS = ("hour", "day", "week", "month")


def _seconds(interval: Any) -> Any:
    return func.extract("epoch", interval)


def _assignments(start: datetime) -> Any:
    """The first assignment of each ticket (events are never older than their ticket)."""
    return (select(TicketEvent.ticket_id, func.min(TicketEvent.at).label("assigned_at"),
                   func.min(cast(TicketEvent.data["waited_s"].astext, Float)).label("waited_s"))
            .where(TicketEvent.kind == "assigned", TicketEvent.at >= start)
            .group_by(TicketEvent.ticket_id).subquery("assigned"))


def _repeated() -> Any:
    return exists().where(TicketLink.related_ticket_id == Ticket.id, TicketLink.kind == "repeat")


def _metrics(assigned: Any) -> list[Any]:
    now = func.now()
    resolved = Ticket.resolved_at.is_not(None)
    with_due = or_(Ticket.first_response_due.is_not(None), Ticket.resolution_due.is_not(None))
    count = func.count()
    return [
        count.label("tickets"),
        func.count(Ticket.resolved_at).label("resolved"),
        func.count().filter(Ticket.status.not_in(CLOSED_STATUSES)).label("open"),
        func.avg(_seconds(Ticket.first_response_at - Ticket.created_at)).label("avg_first_response_s"),
        func.avg(_seconds(Ticket.resolved_at - Ticket.created_at)).label("avg_resolution_s"),
        (100.0 * func.count().filter(and_(with_due, ~sla_breached(now)))
         / func.nullif(func.count().filter(with_due), 0)).label("sla_met_pct"),
        (100.0 * func.count().filter(and_(resolved, ~_repeated()))
         / func.nullif(func.count().filter(resolved), 0)).label("fcr_pct"),
        func.avg(case((resolved, _seconds(Ticket.resolved_at - assigned.c.assigned_at)))).label("aht_s"),
        func.avg(assigned.c.waited_s).label("asa_s"),
        (100.0 * func.count().filter(and_(Ticket.status == "closed", assigned.c.ticket_id.is_(None)))
         / func.nullif(count, 0)).label("abandoned_pct"),
    ]


def _rounded(row: Any) -> dict[str, Any]:
    return {k: (round(float(v), 1) if isinstance(v, float | int | Decimal) and not isinstance(v, bool)
                and k.endswith(("_s", "_pct")) else v) for k, v in row._mapping.items()}


def _period_filter(flt: TicketFilter, start: datetime, end: datetime) -> TicketFilter:
    from dataclasses import replace

    return replace(flt, created_from=start, created_to=end)


async def summary(conn: AsyncConnection, flt: TicketFilter, start: datetime, end: datetime) -> dict[str, Any]:
    assigned = _assignments(start)
    statement = (select(*_metrics(assigned)).select_from(Ticket)
                 .outerjoin(assigned, assigned.c.ticket_id == Ticket.id)
                 .where(*conditions(_period_filter(flt, start, end))))
    return _rounded((await conn.execute(statement)).one())


async def time_series(conn: AsyncConnection, flt: TicketFilter, start: datetime, end: datetime,
                      bucket: str) -> list[dict[str, Any]]:
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {BUCKETS}")
    at = func.date_trunc(bucket, func.timezone("UTC", Ticket.created_at)).label("at")
    statement = (select(at, func.count().label("tickets"), func.count(Ticket.resolved_at).label("resolved"))
                 .where(*conditions(_period_filter(flt, start, end))).group_by(at).order_by(at))
    return [dict(r._mapping) for r in (await conn.execute(statement)).all()]


async def top_categories(conn: AsyncConnection, flt: TicketFilter, start: datetime, end: datetime,
                         limit: int = 10) -> list[dict[str, Any]]:
    statement = (select(Ticket.category, func.count().label("tickets"))
                 .where(*conditions(_period_filter(flt, start, end)))
                 .group_by(Ticket.category).order_by(func.count().desc()).limit(limit))
    return [dict(r._mapping) for r in (await conn.execute(statement)).all()]


async def agent_load(conn: AsyncConnection, flt: TicketFilter, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Per agent: tickets handled in the period, still open, resolved, average resolution time."""
    statement = (select(Ticket.agent_id, func.count().label("tickets"),
                        func.count().filter(Ticket.status.not_in(CLOSED_STATUSES)).label("open"),
                        func.count(Ticket.resolved_at).label("resolved"),
                        func.avg(_seconds(Ticket.resolved_at - Ticket.created_at)).label("avg_resolution_s"))
                 .where(*conditions(_period_filter(flt, start, end)), Ticket.agent_id.is_not(None))
                 .group_by(Ticket.agent_id).order_by(func.count().desc()))
    return [_rounded(r) for r in (await conn.execute(statement)).all()]


async def agent_stats(conn: AsyncConnection, agent_id: int, now: datetime | None = None) -> dict[str, Any]:
    """An agent's own figures: resolved today / this week / this month, AHT and SLA met this month."""
    now = now or datetime.now(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week, month = day - timedelta(days=day.weekday()), day.replace(day=1)
    assigned = _assignments(month - timedelta(days=31))
    mine = and_(Ticket.agent_id == agent_id, Ticket.created_at >= month - timedelta(days=31))
    handled = Ticket.resolved_at
    with_due = or_(Ticket.first_response_due.is_not(None), Ticket.resolution_due.is_not(None))
    this_month = and_(handled >= month, with_due)
    statement = (select(
        func.count().filter(handled >= day).label("handled_today"),
        func.count().filter(handled >= week).label("handled_week"),
        func.count().filter(handled >= month).label("handled_month"),
        func.avg(case((handled >= month, _seconds(handled - assigned.c.assigned_at)))).label("aht_s"),
        (100.0 * func.count().filter(and_(this_month, ~sla_breached(func.now())))
         / func.nullif(func.count().filter(this_month), 0)).label("sla_met_pct"),
        func.count().filter(Ticket.status.not_in(CLOSED_STATUSES)).label("open"))
        .select_from(Ticket).outerjoin(assigned, assigned.c.ticket_id == Ticket.id).where(mine))
    return {"agent_id": agent_id, **_rounded((await conn.execute(statement)).one())}

