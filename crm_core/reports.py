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
- abandonment: calls the caller hung up before an agent answered, and tickets closed without ever being
  assigned to an agent, over all (as :mod:`crm_core.service_level` counts them);
- service level per queue: :mod:`crm_core.service_level`.

Each query is one pass over the period's tickets: what other tables know (the first ``assigned`` event,
repeat-contact links) is kept on the ticket row by database triggers (migration 0003).  Every figure is
defined once, from parts that add up across groups (``_parts``, ``_figures``), so the four sections can
be asked one by one or together (:func:`period_report`, two passes instead of four).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, cast, func, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.models import Ticket
from crm_core.service_level import call_abandoned
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


def _bucket(bucket: str) -> ColumnElement[Any]:
    """The expression a time series groups by."""
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {BUCKETS}")
    if bucket == "month":
        return func.date_trunc(literal_column("'month'"), func.timezone(_UTC, Ticket.created_at))
    return func.date_bin(literal_column(f"INTERVAL '{_BIN_WIDTH[bucket]}'"), Ticket.created_at, _BIN_ORIGIN)


def _wall_time(bucket: str, start: ColumnElement[Any]) -> ColumnElement[Any]:
    """A bucket's start as UTC wall time (a month is grouped by it already)."""
    return start if bucket == "month" else func.timezone(_UTC, start)


def _with_due() -> ColumnElement[bool]:
    return or_(Ticket.first_response_due.is_not(None), Ticket.resolution_due.is_not(None))


def _parts() -> dict[str, Any]:
    """Per-ticket aggregates that add up across groups: counts, and sums of seconds (named ``*_s``)."""
    resolved = Ticket.resolved_at.is_not(None)
    with_due = _with_due()
    return {
        "tickets": func.count(),
        "resolved": func.count(Ticket.resolved_at),
        "open": func.count().filter(Ticket.status.not_in(CLOSED_STATUSES)),
        "responded": func.count(Ticket.first_response_at),
        "first_response_s": func.sum(_seconds(Ticket.first_response_at - Ticket.created_at)),
        "resolution_s": func.sum(_seconds(Ticket.resolved_at - Ticket.created_at)),
        "with_due": func.count().filter(with_due),
        "sla_met": func.count().filter(and_(with_due, ~sla_breached(func.now()))),
        "first_contact": func.count().filter(and_(resolved, Ticket.repeat_contacts == 0)),
        "handled": func.count(Ticket.assigned_at).filter(resolved),
        "handling_s": func.sum(_seconds(Ticket.resolved_at - Ticket.assigned_at)),
        "waited": func.count(Ticket.waited_s),
        "waited_s": func.sum(Ticket.waited_s),
        "abandoned": func.count().filter(or_(call_abandoned(),
                                             and_(Ticket.status == "closed", Ticket.assigned_at.is_(None)))),
    }


def _ratio(part: Any, whole: Any, scale: float | None = None) -> Any:
    return (part if scale is None else scale * part) / func.nullif(whole, 0)


def _figures(part: Callable[[str], Any]) -> dict[str, Any]:
    """The report's figures from the parts (``part(name)`` is the part's total over a group)."""
    return {
        "tickets": part("tickets"),
        "resolved": part("resolved"),
        "open": part("open"),
        "avg_first_response_s": _ratio(part("first_response_s"), part("responded")),
        "avg_resolution_s": _ratio(part("resolution_s"), part("resolved")),
        "sla_met_pct": _ratio(part("sla_met"), part("with_due"), 100.0),
        "fcr_pct": _ratio(part("first_contact"), part("resolved"), 100.0),
        "aht_s": _ratio(part("handling_s"), part("handled")),
        "asa_s": _ratio(part("waited_s"), part("waited")),
        "abandoned_pct": _ratio(part("abandoned"), part("tickets"), 100.0),
    }


TOTALS = ("tickets", "resolved", "open", "avg_first_response_s", "avg_resolution_s", "sla_met_pct", "fcr_pct",
          "aht_s", "asa_s", "abandoned_pct")
SERIES = ("tickets", "resolved")
CATEGORY = ("tickets",)
AGENT = ("tickets", "open", "resolved", "avg_resolution_s")


def _over_tickets(names: tuple[str, ...]) -> list[Any]:
    parts = _parts()
    figures = _figures(parts.__getitem__)
    return [figures[name].label(name) for name in names]


def _rounded(row: Any) -> dict[str, Any]:
    return {k: (round(float(v), 1) if isinstance(v, float | int | Decimal) and not isinstance(v, bool)
                and k.endswith(("_s", "_pct")) else v) for k, v in row.items()}


def _in_period(flt: TicketFilter, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    return conditions(replace(flt, created_from=start, created_to=end))


async def summary(conn: AsyncConnection, flt: TicketFilter, start: datetime, end: datetime) -> dict[str, Any]:
    statement = select(*_over_tickets(TOTALS)).select_from(Ticket).where(*_in_period(flt, start, end))
    return _rounded((await conn.execute(statement)).one()._mapping)


async def time_series(conn: AsyncConnection, flt: TicketFilter, start: datetime, end: datetime,
                      bucket: str) -> list[dict[str, Any]]:
    group = _bucket(bucket)
    statement = (select(_wall_time(bucket, group).label("at"), *_over_tickets(SERIES))
                 .where(*_in_period(flt, start, end)).group_by(group).order_by(group))
    return [dict(r._mapping) for r in (await conn.execute(statement)).all()]


async def top_categories(conn: AsyncConnection, flt: TicketFilter, start: datetime, end: datetime,
                         limit: int = 10) -> list[dict[str, Any]]:
    statement = (select(Ticket.category, *_over_tickets(CATEGORY))
                 .where(*_in_period(flt, start, end))
                 .group_by(Ticket.category).order_by(func.count().desc(), Ticket.category).limit(limit))
    return [dict(r._mapping) for r in (await conn.execute(statement)).all()]


async def agent_load(conn: AsyncConnection, flt: TicketFilter, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Per agent: tickets handled in the period, still open, resolved, average resolution time."""
    statement = (select(Ticket.agent_id, *_over_tickets(AGENT))
                 .where(*_in_period(flt, start, end), Ticket.agent_id.is_not(None))
                 .group_by(Ticket.agent_id).order_by(func.count().desc(), Ticket.agent_id))
    return [_rounded(r._mapping) for r in (await conn.execute(statement)).all()]


# GROUPING(category, agent_id) of each section: a bit is set for each key the section adds up over.
_SECTIONS = {"totals": 0b11, "top_categories": 0b01, "agents": 0b10}


async def period_report(conn: AsyncConnection, flt: TicketFilter, start: datetime, end: datetime, bucket: str,
                        top: int = 10) -> dict[str, Any]:
    """Totals, time series, top categories and agent load in two passes over the period's tickets instead
    of four.  The first adds the tickets up into cells of (category, agent), no more than categories times
    agents whatever the volume or period, and the cells into totals, categories and agents (GROUPING
    SETS); the second is the time series, which reads only two columns.  Same figures as
    :func:`summary`, :func:`time_series`, :func:`top_categories` and :func:`agent_load` run one by one."""
    parts = _parts()
    cells = (select(Ticket.category, Ticket.agent_id, *(expression.label(name) for name, expression in parts.items()))
             .where(*_in_period(flt, start, end)).group_by(Ticket.category, Ticket.agent_id).subquery("cells"))
    figures = _figures(lambda name: func.sum(cells.c[name]) if name.endswith("_s")
                       else cast(func.coalesce(func.sum(cells.c[name]), 0), BigInteger))
    statement = (select(func.grouping(cells.c.category, cells.c.agent_id).label("grouping"), cells.c.category,
                        cells.c.agent_id, *(f.label(name) for name, f in figures.items()))
                 .group_by(func.grouping_sets(text("()"), cells.c.category, cells.c.agent_id)))
    sections: dict[int, list[dict[str, Any]]] = {g: [] for g in _SECTIONS.values()}
    for row in (await conn.execute(statement)).all():
        sections[row.grouping].append(_rounded(row._mapping))
    return {
        "totals": {name: sections[_SECTIONS["totals"]][0][name] for name in TOTALS},
        "series": await time_series(conn, flt, start, end, bucket),
        "top_categories": sorted(({"category": r["category"], **{n: r[n] for n in CATEGORY}}
                                  for r in sections[_SECTIONS["top_categories"]]),
                                 key=lambda r: (-r["tickets"], r["category"] is None, r["category"] or ""))[:top],
        "agents": sorted(({"agent_id": r["agent_id"], **{n: r[n] for n in AGENT}}
                          for r in sections[_SECTIONS["agents"]] if r["agent_id"] is not None),
                         key=lambda r: (-r["tickets"], r["agent_id"])),
    }


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
        _ratio(func.count().filter(and_(this_month, _with_due(), ~sla_breached(func.now()))),
               func.count().filter(and_(this_month, _with_due())), 100.0).label("sla_met_pct"),
        func.count().filter(is_open).label("open"))
        .where(Ticket.agent_id == agent_id, or_(resolved >= min(week, month), is_open)))
    return {"agent_id": agent_id, **_rounded((await conn.execute(statement)).one()._mapping)}
