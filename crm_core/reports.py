"""Report queries over tickets for a period: counts, first response and resolution times, SLA met,
first-contact resolution, handling time, speed of answer, abandonment, agent load, top categories, and
a time series for charts.

Definitions (each over tickets created in the period and matching the filters):

- first response: ``first_response_at - created_at``; resolution: ``resolved_at - created_at``;
- SLA met: tickets with a due time whose first response and resolution came (or are still open) in
  time, over tickets with a due time;
- FCR: resolved tickets that no later ticket of the client links to as a repeat contact, over resolved;
- ASA: the wait in the queue before an agent first took the conversation (``waited_s``);
- AHT: from the first assignment (``assigned_at``) to resolution;
- abandonment: tickets closed without ever being assigned to an agent, over all.

Each query is one pass over the period's tickets: what other tables know (the first ``assigned`` event,
repeat-contact links) is kept on the ticket row by database triggers (migration 0003).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.models import Ticket
from crm_core.tickets_query import CLOSED_STATUSES, TicketFilter, conditions, sla_breached

BUCKETS = ("hour", "day", "week", "month")
# Fixed-width buckets are binned from a Monday at midnight UTC, which is cheaper than converting every
# ticket's time; a month has no fixed width.  The expressions are rendered inline, as written in the
# extended statistics of migration 0003, so the planner knows how few buckets there are.
_BIN_WIDTH = {"hour": "1 hour", "day": "1 day", "week": "7 days"}
_BIN_ORIGIN = literal_column("TIMESTAMPTZ '2001-01-01 00:00:00+00'")
_UTC = literal_column("'UTC'")


def _seconds(interval: Any) -> Any:
    return func.date_part("epoch", interval)


def _bucket(bucket: str) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The expression to group by and the bucket's start as UTC wall time."""
    if bucket == "month":
        start = func.date_trunc(literal_column("'month'"), func.timezone(_UTC, Ticket.created_at))
        return start, start
    binned = func.date_bin(literal_column(f"INTERVAL '{_BIN_WIDTH[bucket]}'"), Ticket.created_at, _BIN_ORIGIN)
    return binned, func.timezone(_UTC, binned)


def _percent(part: ColumnElement[bool], whole: ColumnElement[bool] | None = None) -> Any:
    over = func.count() if whole is None else func.count().filter(whole)
    return 100.0 * func.count().filter(part) / func.nullif(over, 0)


def _with_due() -> ColumnElement[bool]:
    return or_(Ticket.first_response_due.is_not(None), Ticket.resolution_due.is_not(None))


def _metrics() -> list[Any]:
    resolved = Ticket.resolved_at.is_not(None)
    with_due = _with_due()
    return [
        func.count().label("tickets"),
        func.count(Ticket.resolved_at).label("resolved"),
        func.count().filter(Ticket.status.not_in(CLOSED_STATUSES)).label("open"),
        func.avg(_seconds(Ticket.first_response_at - Ticket.created_at)).label("avg_first_response_s"),
        func.avg(_seconds(Ticket.resolved_at - Ticket.created_at)).label("avg_resolution_s"),
        _percent(and_(with_due, ~sla_breached(func.now())), with_due).label("sla_met_pct"),
        _percent(and_(resolved, Ticket.repeat_contacts == 0), resolved).label("fcr_pct"),
        func.avg(_seconds(Ticket.resolved_at - Ticket.assigned_at)).label("aht_s"),
        func.avg(Ticket.waited_s).label("asa_s"),
        _percent(and_(Ticket.status == "closed", Ticket.assigned_at.is_(None))).label("abandoned_pct"),
    ]


def _rounded(row: Any) -> dict[str, Any]:
    return {k: (round(float(v), 1) if isinstance(v, float | int | Decimal) and not isinstance(v, bool)
                and k.endswith(("_s", "_pct")) else v) for k, v in row._mapping.items()}


def _in_period(flt: TicketFilter, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    return conditions(replace(flt, created_from=start, created_to=end))


async def summary(conn: AsyncConnection, flt: TicketFilter, start: datetime, end: datetime) -> dict[str, Any]:
    statement = select(*_metrics()).select_from(Ticket).where(*_in_period(flt, start, end))
    return _rounded((await conn.execute(statement)).one())


async def time_series(conn: AsyncConnection, flt: TicketFilter, start: datetime, end: datetime,
                      bucket: str) -> list[dict[str, Any]]:
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {BUCKETS}")
    group, at = _bucket(bucket)
    statement = (select(at.label("at"), func.count().label("tickets"),
                        func.count(Ticket.resolved_at).label("resolved"))
                 .where(*_in_period(flt, start, end)).group_by(group).order_by(group))
    return [dict(r._mapping) for r in (await conn.execute(statement)).all()]


async def top_categories(conn: AsyncConnection, flt: TicketFilter, start: datetime, end: datetime,
                         limit: int = 10) -> list[dict[str, Any]]:
    statement = (select(Ticket.category, func.count().label("tickets"))
                 .where(*_in_period(flt, start, end))
                 .group_by(Ticket.category).order_by(func.count().desc()).limit(limit))
    return [dict(r._mapping) for r in (await conn.execute(statement)).all()]


async def agent_load(conn: AsyncConnection, flt: TicketFilter, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Per agent: tickets handled in the period, still open, resolved, average resolution time."""
    statement = (select(Ticket.agent_id, func.count().label("tickets"),
                        func.count().filter(Ticket.status.not_in(CLOSED_STATUSES)).label("open"),
                        func.count(Ticket.resolved_at).label("resolved"),
                        func.avg(_seconds(Ticket.resolved_at - Ticket.created_at)).label("avg_resolution_s"))
                 .where(*_in_period(flt, start, end), Ticket.agent_id.is_not(None))
                 .group_by(Ticket.agent_id).order_by(func.count().desc()))
    return [_rounded(r) for r in (await conn.execute(statement)).all()]


async def agent_stats(conn: AsyncConnection, agent_id: int, now: datetime | None = None) -> dict[str, Any]:
    """An agent's own figures: resolved today / this week / this month, AHT and SLA met this month (over
    tickets resolved this month), and the tickets the agent holds open.  Reads only the agent's tickets
    resolved since the week or month began and the open ones, through their two indexes."""
    now = now or datetime.now(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week, month = day - timedelta(days=day.weekday()), day.replace(day=1)
    resolved = Ticket.resolved_at
    is_open = Ticket.status.not_in(CLOSED_STATUSES)
    this_month = resolved >= month
    statement = (select(
        func.count().filter(resolved >= day).label("handled_today"),
        func.count().filter(resolved >= week).label("handled_week"),
        func.count().filter(this_month).label("handled_month"),
        func.avg(_seconds(resolved - Ticket.assigned_at)).filter(this_month).label("aht_s"),
        _percent(and_(this_month, _with_due(), ~sla_breached(func.now())), and_(this_month, _with_due()))
        .label("sla_met_pct"),
        func.count().filter(is_open).label("open"))
        .where(Ticket.agent_id == agent_id, or_(resolved >= min(week, month), is_open)))
    return {"agent_id": agent_id, **_rounded((await conn.execute(statement)).one())}
