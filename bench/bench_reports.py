"""Reports over a month of tickets: summary (counts, first response, resolution, SLA %, FCR, AHT, ASA,
abandonment), time series, top categories and agent load, as ``GET /api/v1/reports/summary`` runs them
(side by side on separate connections) and in two passes (``reports.period_report``), and one agent's own
figures, beside a bare ``count(*)`` over the same month as baseline.

The seed writes tickets, their ``assigned`` events (nine in ten) and repeat-contact links (one ticket in
eight of a returning client) through the same triggers the engine's writes go through.

``python -m bench.bench_reports [--tickets N]`` (default 200,000; the bar is 1,000,000 in <= 2 s).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bench.common import bench_database_url
from crm_core import reports
from crm_core.database import async_engine, sync_engine
from crm_core.tickets_query import TicketFilter

DATABASE = "switchboard_bench_dashboards"
MONTH_START = datetime(2026, 10, 1, tzinfo=UTC)
MONTH_END = MONTH_START + timedelta(days=31)

SEED_SQL = """
INSERT INTO tickets (number, conversation_id, channel, created_at, client_id, identified, sender, subject,
                     category, type, priority, status, queue, agent_id, sla_policy, first_response_due,
                     resolution_due, first_response_at, resolved_at, closed_at, attributes, updated_at)
SELECT 'B-' || g, g, (ARRAY['voice','telegram','viber','email','webchat','web_form','app'])[1 + g % 7],
       :start + (g % 2678400) * interval '1 second', 1 + g % 500000, true, '+38067' || lpad((g % 9999999)::text, 7, '0'),
       'Звернення ' || g,
       (ARRAY['billing.payment','metering.reading','emergency.gas_leak','general.question','connection'])[1 + g % 5],
       (ARRAY['request','complaint','incident','information'])[1 + g % 4],
       (ARRAY['low','normal','high','urgent'])[1 + g % 4],
       (ARRAY['new','in_progress','on_hold','resolved','closed','closed'])[1 + g % 6],
       (ARRAY['general','billing','technical'])[1 + g % 3], 1 + g % 200, 'standard',
       :start + (g % 2678400) * interval '1 second' + interval '1 hour',
       :start + (g % 2678400) * interval '1 second' + interval '3 days',
       :start + (g % 2678400) * interval '1 second' + (g % 5400) * interval '1 second',
       CASE WHEN g % 6 >= 3 THEN :start + (g % 2678400) * interval '1 second' + (g % 300000) * interval '1 second' END,
       CASE WHEN g % 6 >= 4 THEN :start + (g % 2678400) * interval '1 second' + interval '4 days' END,
       '{}'::jsonb, now()
FROM generate_series(:first, :last) AS g
"""
EVENTS_SQL = """
INSERT INTO ticket_events (ticket_id, at, author, kind, data)
SELECT id, created_at + (id % 600) * interval '1 second', 'agent:' || agent_id, 'assigned',
       jsonb_build_object('queue', queue, 'waited_s', id % 600)
FROM tickets WHERE number LIKE 'B-%' AND id % 10 <> 0 AND id > :after
"""
CLIENT_CYCLE = 500_000  # ticket g belongs to client 1 + g % CLIENT_CYCLE, so g + CLIENT_CYCLE is a return
LINKS_SQL = f"""
INSERT INTO ticket_links (ticket_id, related_ticket_id, kind)
SELECT later.id, earlier.id, 'repeat'
FROM generate_series(1, :last - {CLIENT_CYCLE}) AS g
JOIN tickets earlier ON earlier.number = 'B-' || g
JOIN tickets later ON later.number = 'B-' || (g + {CLIENT_CYCLE})
WHERE g % 8 = 0
ON CONFLICT DO NOTHING
"""
AGENT_ID = 7
AGENT_NOW = MONTH_START + timedelta(days=10, hours=15)


def seed(url: str, tickets: int) -> None:
    """Bring the bench database to ``tickets`` tickets in October 2026 (reused between runs)."""
    engine = sync_engine(url)
    with engine.begin() as conn:
        have = conn.execute(text("SELECT count(*) FROM tickets WHERE number LIKE 'B-%'")).scalar_one()
        linked = conn.execute(text("SELECT count(*) FROM ticket_links WHERE kind = 'repeat'")).scalar_one()
        started = time.perf_counter()
        if have < tickets:
            last_id = conn.execute(text("SELECT coalesce(max(id), 0) FROM tickets")).scalar_one()
            conn.execute(text(SEED_SQL), {"start": MONTH_START, "first": have + 1, "last": tickets})
            conn.execute(text(EVENTS_SQL), {"after": last_id})
            print(f"seeded {tickets - have:,} tickets in {time.perf_counter() - started:.1f} s", flush=True)
        if have < tickets or not linked:
            added = conn.execute(text(LINKS_SQL), {"last": max(have, tickets)}).rowcount
            if added:
                print(f"linked {added:,} repeat contacts in {time.perf_counter() - started:.1f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE tickets"))
        conn.execute(text("VACUUM ANALYZE ticket_events"))
    engine.dispose()


async def _timed(engine, fn, *args) -> tuple[float, object]:
    started = time.perf_counter()
    async with engine.connect() as conn:
        result = await fn(conn, *args)
    return time.perf_counter() - started, result


async def run(url: str, rounds: int) -> None:
    engine = async_engine(url, pool_size=4)
    flt = TicketFilter()
    window = (flt, MONTH_START, MONTH_END)

    async def count(conn, *_):
        return (await conn.execute(text("SELECT count(*) FROM tickets WHERE created_at >= :a AND created_at < :b"),
                                   {"a": MONTH_START, "b": MONTH_END})).scalar_one()

    await _timed(engine, count)  # warm the cache
    figures: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name, fn, args in (("baseline count(*) over the month", count, ()),
                               ("summary", reports.summary, window),
                               ("time series (day)", reports.time_series, (*window, "day")),
                               ("top categories", reports.top_categories, window),
                               ("agent load", reports.agent_load, window)):
            figures.setdefault(name, []).append((await _timed(engine, fn, *args))[0])
        started = time.perf_counter()
        parts = await asyncio.gather(_timed(engine, reports.summary, *window),
                                     _timed(engine, reports.time_series, *window, "day"),
                                     _timed(engine, reports.top_categories, *window),
                                     _timed(engine, reports.agent_load, *window))
        figures.setdefault("whole report as the endpoint runs it", []).append(time.perf_counter() - started)
        figures.setdefault("whole report in two passes (period_report)", []).append(
            (await _timed(engine, reports.period_report, *window, "day"))[0])
        figures.setdefault(f"agent {AGENT_ID}'s own figures", []).append(
            (await _timed(engine, reports.agent_stats, AGENT_ID, AGENT_NOW))[0])
    totals = parts[0][1]
    print(f"month of {totals['tickets']:,} tickets: SLA met {totals['sla_met_pct']}%, FCR {totals['fcr_pct']}%, "
          f"AHT {totals['aht_s']} s, ASA {totals['asa_s']} s, abandoned {totals['abandoned_pct']}%")
    baseline = min(figures["baseline count(*) over the month"])
    for name, values in figures.items():
        best = min(values)
        print(f"{name:40s} best {best * 1000:8.0f} ms  median {statistics.median(values) * 1000:8.0f} ms  "
              f"worst {max(values) * 1000:8.0f} ms  ({best / baseline:5.1f} x baseline)")
    await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    url = bench_database_url(database=DATABASE)
    seed(url, args.tickets)
    asyncio.run(run(url, args.rounds))


if __name__ == "__main__":
    main()
