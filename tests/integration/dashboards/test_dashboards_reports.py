"""Reports over a period through the gateway: every figure of the summary worked out by hand from a few
tickets whose assignments and repeat contacts arrive as the engine writes them (events and links), and
an agent's own figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import text

from crm_core import reports
from crm_core.tickets_query import TicketFilter
from dashboards.jsonutil import plain

TICKET = """
INSERT INTO tickets (number, conversation_id, channel, created_at, client_id, identified, category, type,
                     priority, status, queue, agent_id, first_response_due, resolution_due, first_response_at,
                     resolved_at, closed_at, attributes)
VALUES (:number, 1, :channel, CAST(:created AS timestamptz), 7, true, :category, 'request', 'normal', :status,
        'billing', :agent, CAST(:created AS timestamptz) + CAST(:fr_due AS interval),
        CAST(:created AS timestamptz) + CAST(:res_due AS interval),
        CAST(:created AS timestamptz) + CAST(:responded AS interval),
        CAST(:created AS timestamptz) + CAST(:resolved AS interval),
        CAST(:created AS timestamptz) + CAST(:closed AS interval), '{}')
RETURNING id
"""
ASSIGNED = """
INSERT INTO ticket_events (ticket_id, at, author, kind, data)
SELECT id, created_at + CAST(:after AS interval), 'agent:' || :agent, 'assigned', CAST(:data AS jsonb)
FROM tickets WHERE id = :ticket
"""


async def _ticket(conn, number: str, created: str, channel: str, category: str, status: str, agent: int | None,
                  *, responded: str | None = None, resolved: str | None = None, due: bool = True,
                  assigned_after_s: int | None = None) -> int:
    ticket = (await conn.execute(text(TICKET), {
        "number": number, "created": created, "channel": channel, "category": category, "status": status,
        "agent": agent, "responded": responded, "resolved": resolved,
        "fr_due": "1 hour" if due else None, "res_due": "1 day" if due else None,
        "closed": "2 days" if status == "closed" else None})).scalar_one()
    if assigned_after_s is not None:
        await conn.execute(text(ASSIGNED), {"ticket": ticket, "agent": str(agent), "after": f"{assigned_after_s} s",
                                            "data": json.dumps({"agent_id": agent, "waited_s": assigned_after_s})})
    return ticket


async def test_summary_figures_over_a_period(engine, web, login_as):
    supervisor = await login_as("supervisor")
    first, second = (await login_as("cc_operator")).id, (await login_as("cc_operator")).id
    async with engine.db.begin() as conn:
        await _ticket(conn, "R-1", "2026-10-01 08:00+00", "voice", "billing.payment", "resolved", first,
                      responded="120 s", resolved="600 s", assigned_after_s=60)
        answered_then_back = await _ticket(conn, "R-2", "2026-10-01 09:00+00", "telegram", "billing.payment",
                                           "closed", first, responded="40 s", resolved="3600 s",
                                           assigned_after_s=30)
        await _ticket(conn, "R-3", "2026-10-02 10:00+00", "email", "metering.reading", "closed", None)
        back = await _ticket(conn, "R-4", "2026-10-02 12:00+00", "telegram", "billing.payment", "in_progress",
                             second, due=False, assigned_after_s=100)
        await _ticket(conn, "R-0", "2026-09-30 23:59+00", "voice", "billing.payment", "new", None)
        await conn.execute(text("INSERT INTO ticket_links VALUES (:later, :earlier, 'repeat')"),
                           {"later": back, "earlier": answered_then_back})

    response = await _report(web, supervisor, "from=2026-10-01&to=2026-10-02&bucket=day")
    assert response["totals"] == {
        "tickets": 4, "resolved": 2, "open": 1, "avg_first_response_s": 80.0, "avg_resolution_s": 2100.0,
        "sla_met_pct": 66.7,  # R-3 never answered within its hour
        "fcr_pct": 50.0,  # R-2's client came back with R-4
        "aht_s": 2055.0,  # (600 - 60 + 3600 - 30) / 2
        "asa_s": 63.3,  # (60 + 30 + 100) / 3
        "abandoned_pct": 25.0}  # R-3 closed without an agent
    assert [(p["at"][:10], p["tickets"], p["resolved"]) for p in response["series"]] == [
        ("2026-10-01", 2, 2), ("2026-10-02", 2, 0)]
    assert response["top_categories"] == [{"category": "billing.payment", "tickets": 3},
                                          {"category": "metering.reading", "tickets": 1}]
    assert response["agents"] == [
        {"agent_id": first, "tickets": 2, "open": 0, "resolved": 2, "avg_resolution_s": 2100.0},
        {"agent_id": second, "tickets": 1, "open": 1, "resolved": 0, "avg_resolution_s": None}]

    telegram = await _report(web, supervisor, "from=2026-10-01&to=2026-10-02&channel=telegram")
    assert (telegram["totals"]["tickets"], telegram["totals"]["fcr_pct"], telegram["totals"]["asa_s"]) == (2, 0.0, 65.0)
    hourly = await _report(web, supervisor, "from=2026-10-01&to=2026-10-02&bucket=hour")
    assert [p["at"][:13] for p in hourly["series"]] == ["2026-10-01T08", "2026-10-01T09", "2026-10-02T10",
                                                        "2026-10-02T12"]


async def test_period_report_answers_what_the_endpoint_answers(engine, web, login_as):
    supervisor = await login_as("supervisor")
    agent = (await login_as("cc_operator")).id
    async with engine.db.begin() as conn:
        for day in range(1, 9):
            for hour, (channel, category, status) in enumerate((
                    ("voice", "billing.payment", "resolved"), ("email", None, "closed"),
                    ("telegram", "metering.reading", "in_progress"), ("voice", "connection", "resolved"))):
                await _ticket(conn, f"P-{day}-{hour}", f"2026-10-{day:02d} {8 + hour}:00+00", channel, category,
                              status, agent if status != "closed" else None, responded=f"{day * 10} s",
                              resolved=f"{day * hour} min" if status == "resolved" else None,
                              assigned_after_s=day * 7 if status != "closed" else None, due=day % 3 > 0)
    for query, flt, start, end, bucket in (
            ("from=2026-10-01&to=2026-10-08&bucket=day", TicketFilter(), 1, 9, "day"),
            ("from=2026-10-01&to=2026-10-08&bucket=week&channel=voice", TicketFilter(channels=("voice",)), 1, 9,
             "week"),
            ("from=2026-10-03&to=2026-10-03&bucket=hour", TicketFilter(), 3, 4, "hour"),
            ("from=2026-10-20&to=2026-10-21&bucket=hour", TicketFilter(), 20, 22, "hour")):
        answered = await _report(web, supervisor, query)
        async with engine.db.connect() as conn:
            two_passes = await reports.period_report(conn, flt, datetime(2026, 10, start, tzinfo=UTC),
                                                   datetime(2026, 10, end, tzinfo=UTC), bucket)
        assert plain(two_passes) == {k: answered[k] for k in ("totals", "series", "top_categories", "agents")}, query
    assert answered["totals"]["tickets"] == 0  # the last period is empty


async def _report(web, supervisor, query: str) -> dict:
    response = await web.get(f"/api/v1/reports/summary?{query}", headers=supervisor.headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_an_agent_sees_what_they_resolved_and_hold_open(engine, web, login_as):
    agent = await login_as("cc_operator")
    other = await login_as("cc_operator")
    async with engine.db.begin() as conn:
        recent, long_ago = (await conn.execute(text(
            "SELECT (now() - interval '15 min')::text, (now() - interval '60 days')::text"))).one()
        await _ticket(conn, "S-1", recent, "voice", "billing.payment", "resolved", agent.id,
                      responded="1 min", resolved="899 s", assigned_after_s=299)  # handled in 600 s
        await _ticket(conn, "S-2", long_ago, "telegram", "billing.payment", "in_progress", agent.id)
        await _ticket(conn, "S-3", long_ago, "email", "billing.payment", "resolved", agent.id, resolved="20 days")
        await _ticket(conn, "S-4", recent, "voice", "billing.payment", "resolved", other.id, resolved="899 s")

    response = await web.get("/api/v1/agents/me/stats", headers=agent.headers)
    assert response.status == 200, await response.text()
    assert await response.json() == {"agent_id": agent.id, "handled_today": 1, "handled_week": 1,
                                     "handled_month": 1, "aht_s": 600.0, "sla_met_pct": 100.0, "open": 1}
